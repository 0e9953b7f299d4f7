import type { ConfigService } from '@nestjs/config';
import type { OAuthClientOptions, OAuthClock, OAuthModuleOptions } from 'nestjs-client-credentials';
import { envNames, PROVIDERS, type Provider, usesPrivateKey } from '../providers.js';

/**
 * Every client from configuration: the code is the same whether the settings point at the
 * emulators or at the real APIs. `clock` is only for the sample's own test.
 */
export function oauthOptionsFromConfig(config: ConfigService, clock?: OAuthClock): OAuthModuleOptions {
  const client = (provider: Provider): OAuthClientOptions => {
    const env = envNames(provider);
    const common = {
      baseUrl: config.get<string>(env.baseUrl),
      tokenUrl: config.get<string>(env.tokenUrl),
      clientId: config.getOrThrow<string>(env.clientId),
      scope: config.get<string>(env.scope) ?? provider.scope,
    };
    if (!usesPrivateKey(provider)) {
      return { strategy: provider.strategy, ...common, clientSecret: config.getOrThrow<string>(env.clientSecret) };
    }
    // No secret: each token request carries a JWT assertion signed with this key (RFC 7523). A PEM
    // kept on one line with `\n` escapes, as .env files and CI secret stores often hold it, works too.
    return {
      strategy: provider.strategy,
      ...common,
      authMethod: 'private_key_jwt',
      privateKey: config.getOrThrow<string>(env.privateKey).replaceAll('\\n', '\n'),
      keyId: config.get<string>(env.keyId),
      // DPoP: tokens bound to this key; without one configured, a key made at boot (this process only).
      ...(provider.dpop ? { dpop: dpopOption(config.get<string>(env.dpopKey)) } : {}),
    };
  };
  return { clients: Object.fromEntries(PROVIDERS.map((provider) => [provider.name, client(provider)])), clock };
}

function dpopOption(pem: string | undefined) {
  return pem === undefined ? (true as const) : { key: pem.replaceAll('\\n', '\n') };
}
