import type { LoggerService } from '@nestjs/common';
import { fingerprint } from '../common/fingerprint.js';
import type { OAuthClientRegistry } from '../config/client-registry.js';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import { LOG_CONTEXT } from '../oauth.constants.js';
import { logMessages } from '../observability/log-messages.js';
import type { OAuthEvents } from '../observability/oauth-events.js';
import type { TokenService } from '../token.service.js';
import { AttachToMatcher, type AttachToMatch } from './attach-to.matcher.js';
import type { BearerParticipant } from './bearer-participant.js';

/**
 * One OAuthModule's side of every transport: its clients' `attachTo` prefixes and token
 * endpoints, and its TokenService. The axios hook, `OAuthFetch` and the undici interceptor all
 * ask it; `TokenService.participant` hands out the module's one instance.
 */
export class TokenParticipant implements BearerParticipant {
  private readonly matcher: AttachToMatcher;

  constructor(
    private readonly clients: OAuthClientRegistry,
    private readonly tokens: TokenService,
    private readonly logger: LoggerService,
    private readonly events: OAuthEvents,
  ) {
    this.matcher = new AttachToMatcher([...clients.all()]);
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
