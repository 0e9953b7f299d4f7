import type { LoggerService } from '@nestjs/common';
import { fingerprint } from '../common/fingerprint.js';
import type { OAuthClientRegistry } from '../config/client-registry.js';
import type { ResolvedClient } from '../config/resolved-client.js';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import { LOG_CONTEXT } from '../oauth.constants.js';
import { logMessages } from '../observability/log-messages.js';
import type { OAuthEvents } from '../observability/oauth-events.js';
import type { TokenService } from '../token.service.js';
import { AttachToMatcher, type AttachToMatch } from './attach-to.matcher.js';
import type { BearerParticipant, DpopSigner } from './bearer-participant.js';
import { isDpopBound } from '../dpop/dpop-challenge.js';
import type { DpopSigners } from '../dpop/dpop-signers.js';

/**
 * One OAuthModule's side of every transport: its clients' `attachTo` prefixes and token
 * endpoints, and its TokenService. The axios hook, `OAuthFetch` and the undici interceptor all
 * ask it; `TokenService.participant` hands out the module's one instance.
 */
export class TokenParticipant implements BearerParticipant {
  /** Built from the clients; built again after `OAuthClients` added, replaced or removed one. */
  private rules: AttachToMatcher;
  private rulesRevision: number;
  /** The `Bearer` header of each token, while the token is in use. */
  private readonly bearerHeaders = new WeakMap<AccessToken, string>();

  constructor(
    private readonly clients: OAuthClientRegistry,
    private readonly tokens: TokenService,
    private readonly logger: LoggerService,
    private readonly events: OAuthEvents,
    private readonly dpop: DpopSigners,
  ) {
    this.rules = new AttachToMatcher([...clients.all()]);
    this.rulesRevision = clients.revision;
  }

  /**
   * The client, or `undefined` once removed at runtime: a call that got its token just before
   * `OAuthClients.remove` is sent as it was going to be, and no transport callback throws for it.
   */
  private current(client: string): ResolvedClient | undefined {
    return this.clients.peek(client);
  }

  /**
   * The attachTo rules of the clients as they are now. Asked only when a transport resolves a URL
   * it has not remembered (a change of clients clears every transport's memo): one number compare.
   */
  private get matcher(): AttachToMatcher {
    if (this.rulesRevision !== this.clients.revision) {
      this.rules = new AttachToMatcher([...this.clients.all()]);
      this.rulesRevision = this.clients.revision;
    }
    return this.rules;
  }

  /** `Bearer <token>`, or `DPoP <token>` for a DPoP client's DPoP-bound token. */
  authorization(client: string, token: AccessToken): string {
    if (isDpopBound(token.tokenType) && this.current(client)?.dpop !== undefined) return `DPoP ${token.accessToken}`;
    // One string per token, not one per call: a transport flattens (copies) a joined string once.
    let header = this.bearerHeaders.get(token);
    if (header === undefined) this.bearerHeaders.set(token, (header = `Bearer ${token.accessToken}`));
    return header;
  }

  /** The client's proof maker when the token is DPoP-bound; `undefined` for a bearer call. */
  dpopSigner(client: string, token: AccessToken): DpopSigner | undefined {
    if (!isDpopBound(token.tokenType)) return undefined;
    const resolved = this.current(client);
    return resolved === undefined ? undefined : this.dpop.of(resolved);
  }

  /** Keeps the `DPoP-Nonce` an answer to a DPoP call carried, for the next proof to that origin. */
  dpopNonce(client: string, url: string, nonce: string | null | undefined): void {
    const resolved = this.current(client);
    if (nonce && resolved !== undefined) this.dpop.of(resolved)?.sawAnswer(url, nonce);
  }

  /** A nonce demand answered to a DPoP call: sent once more with the nonce, the token kept. */
  nonceRetried(client: string): void {
    this.events.emit({ type: 'request_retried', client, reason: 'dpop_nonce' });
  }

  /** `attachTo` prefixes configured for more than one client (the first configured one wins). */
  get conflicts(): AttachToMatcher['conflicts'] {
    return this.matcher.conflicts;
  }

  knows(client: string): boolean {
    return this.clients.has(client);
  }

  match(url: URL): AttachToMatch | undefined {
    return this.matcher.match(url);
  }

  isTokenEndpoint(url: URL): boolean {
    return this.matcher.isTokenEndpoint(url);
  }

  cachedToken(client: string, scope: string | string[] | undefined): AccessToken | undefined {
    return this.tokens.cachedToken(client, scope);
  }

  getToken(client: string, scope: string | string[] | undefined): Promise<AccessToken> {
    return this.tokens.getToken(client, scope === undefined ? undefined : { scope });
  }

  async rejected(
    client: string,
    scope: string | string[] | undefined,
    accessToken: string,
    willRetry: boolean,
  ): Promise<void> {
    this.logger.warn(logMessages.refused(client, fingerprint(accessToken), willRetry), LOG_CONTEXT);
    if (willRetry) this.events.emit({ type: 'request_retried', client, reason: '401' });
    await this.tokens.invalidate(client, { scope, accessToken });
  }
}
