import type { ConfigService } from '@nestjs/config';
import type { OAuthClientOptions, OAuthClock, OAuthModuleOptions } from 'nestjs-client-credentials';
import { envNames, PROVIDERS, type Provider } from '../providers.js';

/**
 * Every client from configuration: the code is the same whether the settings point at the
 * emulators or at the real APIs. `clock` is only for the sample's own test.
 */
export function oauthOptionsFromConfig(config: ConfigService, clock?: OAuthClock): OAuthModuleOptions {
  const client = (provider: Provider): OAuthClientOptions => {
    const env = envNames(provider);
    return {
      strategy: provider.strategy,
      baseUrl: config.get<string>(env.baseUrl),
      tokenUrl: config.get<string>(env.tokenUrl),
      clientId: config.getOrThrow<string>(env.clientId),
      clientSecret: config.getOrThrow<string>(env.clientSecret),
      scope: config.get<string>(env.scope) ?? provider.scope,
    };
  };
  return { clients: Object.fromEntries(PROVIDERS.map((provider) => [provider.name, client(provider)])), clock };
}
