import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { OAuthClientHealth } from '../observability/client-health.js';
import { TokenService } from '../token.service.js';

export type { OAuthClientHealth };

/** The data of the indicator's result: each client's health, by name. */
export interface OAuthHealthDetails {
  clients: Record<string, OAuthClientHealth>;
}

/**
 * A `@nestjs/terminus` health indicator for the OAuth clients: `down` when any client's last token
 * request failed and it holds no servable token. It reads what the token layer knows and never
 * calls a token endpoint, so a health probe cannot put load on a partner.
 *
 * ```ts
 * @Module({ imports: [TerminusModule, OAuthModule.forRoot(...)], providers: [OAuthHealthIndicator] })
 * // in a controller:
 * @Get('health') @HealthCheck() check() { return this.health.check([() => this.oauth.isHealthy()]); }
 * ```
 */
@Injectable()
export class OAuthHealthIndicator {
  constructor(
    private readonly tokens: TokenService,
    private readonly indicators: HealthIndicatorService,
  ) {}

  /** `clients` limits the check to those clients (an unknown name is an `OAuthConfigError`). */
  isHealthy<const Key extends string = 'oauth'>(
    key: Key = 'oauth' as Key,
    options: { clients?: readonly string[] } = {},
  ): HealthIndicatorResult<Key, 'up' | 'down', OAuthHealthDetails> {
    const clients = this.tokens.health(options.clients);
    const check = this.indicators.check(key);
    return Object.values(clients).some((client) => client.status === 'down')
      ? check.down({ clients })
      : check.up({ clients });
  }
}
