import { Injectable } from '@nestjs/common';

/** Enough for every cached key of a large app; the oldest token goes first past it. */
const MAX_RECENT_TOKENS = 10_000;

/**
 * The access tokens this module handed out lately, any client's, so that redaction recognises
 * them in whatever a provider answers (a token endpoint echoing another client's token, say).
 * Holds references to strings the cache holds anyway.
 */
@Injectable()
export class RecentTokens {
  private readonly tokens = new Set<string>();

  add(accessToken: string): void {
    this.tokens.delete(accessToken);
    this.tokens.add(accessToken);
    if (this.tokens.size > MAX_RECENT_TOKENS) this.tokens.delete(this.tokens.values().next().value!);
  }

  get all(): ReadonlySet<string> {
    return this.tokens;
  }
}
