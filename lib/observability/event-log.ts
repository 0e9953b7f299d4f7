import type { LoggerService } from '@nestjs/common';
import { LOG_CONTEXT } from '../oauth.constants.js';
import { logMessages } from './log-messages.js';
import type { OAuthEventListener } from './oauth-events.js';
import type { OAuthEvent } from './oauth-event.js';

/**
 * The module's events as log lines (debug level: warnings are logged where the decision is made,
 * with its reason). Store outages are logged by the store, which knows why.
 */
export class EventLog implements OAuthEventListener {
  constructor(private readonly logger: LoggerService) {}

  onEvent(event: OAuthEvent): void {
    const debug = (message: string) => this.logger.debug?.(message, LOG_CONTEXT);
    switch (event.type) {
      case 'token_fetched':
        return debug(
          logMessages.tokenFetched(
            event.client,
            event.fingerprint,
            new Date(event.expiresAt).toISOString(),
            event.source,
          ),
        );
      case 'token_failed':
        return debug(logMessages.tokenFailed(event.client, event.code, event.attempts));
      case 'cooldown_started':
        return debug(logMessages.cooldownStarted(event.client, event.code, event.retryAfterMs));
      default:
    }
  }
}
