import { Logger, type Provider } from '@nestjs/common';
import { completeClock } from './common/system-clock.js';
import { NOOP_LOGGER } from './common/noop-logger.js';
import { OAuthClientRegistry } from './config/client-registry.js';
import { resolveClients } from './config/resolve-clients.js';
import type { OAuthModuleOptions } from './interfaces/oauth-module-options.interface.js';
import { OAUTH_CLOCK, OAUTH_LOGGER, LOG_CONTEXT } from './oauth.constants.js';
import { OAUTH_MODULE_OPTIONS } from './oauth.module-definition.js';
import { TokenStore } from './stores/token-store.interface.js';
import { StrategyResolver } from './strategies/strategy-resolver.js';

/** Providers derived from the module options. */
export const OAUTH_OPTION_PROVIDERS: Provider[] = [
  {
    provide: OAUTH_CLOCK,
    useFactory: (options: OAuthModuleOptions) => completeClock(options.clock),
    inject: [OAUTH_MODULE_OPTIONS],
  },
  {
    provide: OAUTH_LOGGER,
    useFactory: (options: OAuthModuleOptions) =>
      options.logger === false ? NOOP_LOGGER : (options.logger ?? new Logger(LOG_CONTEXT)),
    inject: [OAUTH_MODULE_OPTIONS],
  },
  {
    provide: TokenStore,
    useFactory: (options: OAuthModuleOptions) => options.store ?? null,
    inject: [OAUTH_MODULE_OPTIONS],
  },
  StrategyResolver,
  {
    // Validation happens here, so bad options fail while the module compiles.
    provide: OAuthClientRegistry,
    useFactory: async (options: OAuthModuleOptions, strategies: StrategyResolver, logger: Logger) =>
      new OAuthClientRegistry(
        await resolveClients(options, (client, strategy) => strategies.resolve(client, strategy), logger),
      ),
    inject: [OAUTH_MODULE_OPTIONS, StrategyResolver, OAUTH_LOGGER],
  },
];
