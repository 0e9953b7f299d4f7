import type { LoggerService, Provider } from '@nestjs/common';
import type { LibraryClock } from '../common/system-clock.js';
import type { OAuthModuleOptions } from '../interfaces/oauth-module-options.interface.js';
import { LIBRARY_VERSION, OAUTH_CLOCK, OAUTH_LOGGER } from '../oauth.constants.js';
import { OAUTH_MODULE_OPTIONS } from '../oauth.module-definition.js';
import { TokenCache } from '../token-cache/token-cache.js';
import { EventLog } from './event-log.js';
import { LookupCounters } from './lookup-counters.js';
import { OAuthEvents } from './oauth-events.js';
import { loadOpenTelemetry, OAuthTelemetry } from './telemetry.js';

/** Made while the module compiles, so every listener is in place before the first event. */
export const OAUTH_LISTENERS = Symbol('OAUTH:LISTENERS');

export const OBSERVABILITY_PROVIDERS: Provider[] = [
  OAuthEvents,
  LookupCounters,
  {
    provide: OAUTH_LISTENERS,
    useFactory: async (
      options: OAuthModuleOptions,
      events: OAuthEvents,
      cache: TokenCache,
      clock: LibraryClock,
      logger: LoggerService,
      lookups: LookupCounters,
    ) => {
      events.listen(new EventLog(logger));
      const api = options.telemetry === false ? undefined : await loadOpenTelemetry();
      if (api === undefined) return;
      const timeToExpiry = () =>
        [...cache.holdings()].map(([client, held]) => [client, (held.soonestExpiry - clock.now()) / 1000] as const);
      events.listen(new OAuthTelemetry(api, LIBRARY_VERSION, timeToExpiry, lookups));
    },
    inject: [OAUTH_MODULE_OPTIONS, OAuthEvents, TokenCache, OAUTH_CLOCK, OAUTH_LOGGER, LookupCounters],
  },
];
