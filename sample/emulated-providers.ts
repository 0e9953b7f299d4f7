import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  startEmulator,
  type Emulator,
  type EmulatorClock,
  type OAuth2EmulatorOptions,
} from 'nestjs-client-credentials/testing';
import { envNames, type Provider, usesPrivateKey } from './providers.js';

export interface EmulatedProviders {
  /** Configuration that points the app at the emulators, as environment variables would. */
  env: Record<string, string>;
  emulators: ReadonlyMap<string, Emulator>;
  close(): Promise<void>;
}

/** A client's credentials for one run: what its emulator is told, and what the app is configured with. */
interface FreshCredentials {
  emulator: Pick<OAuth2EmulatorOptions, 'clientSecret' | 'authMethods' | 'jwks'>;
  env: Record<string, string>;
}

/**
 * A new secret; or, for `private_key_jwt`, a new EC P-256 key pair: the emulator holds the public
 * key as the client's registered JWKS, the app gets the private key as a PEM in its configuration,
 * where a real deployment would put the key registered with the authorization server.
 */
function freshCredentials(provider: Provider): FreshCredentials {
  const names = envNames(provider);
  if (!usesPrivateKey(provider)) {
    const clientSecret = randomBytes(18).toString('base64url');
    return { emulator: { clientSecret }, env: { [names.clientSecret]: clientSecret } };
  }
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyId = `sample-${provider.name}-1`;
  return {
    emulator: {
      authMethods: ['private_key_jwt'],
      jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: keyId, use: 'sig' }] },
    },
    env: { [names.privateKey]: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), [names.keyId]: keyId },
  };
}

/** Starts the library's own emulator of each provider on 127.0.0.1, with fresh credentials. */
export async function startEmulatedProviders(
  providers: readonly Provider[],
  clock?: EmulatorClock,
): Promise<EmulatedProviders> {
  const env: Record<string, string> = {};
  const emulators = new Map<string, Emulator>();
  try {
    for (const provider of providers) {
      const credentials = freshCredentials(provider);
      const emulator = await startEmulator(provider.strategy, {
        clientId: `sample-${provider.name}`,
        ...credentials.emulator,
        ...(provider.dpop ? { dpop: true } : {}),
        // FirstVision lives under a tenant path; the client keeps it in baseUrl.
        basePath: provider.strategy === 'firstvision' ? '/sandbox' : undefined,
        clock,
      });
      emulators.set(provider.name, emulator);
      const names = envNames(provider);
      Object.assign(env, credentials.env, {
        [names.baseUrl]: emulator.baseUrl,
        [names.clientId]: emulator.clientId,
      });
    }
  } catch (error) {
    await Promise.all([...emulators.values()].map((e) => e.close()));
    throw error;
  }
  return { env, emulators, close: async () => void (await Promise.all([...emulators.values()].map((e) => e.close()))) };
}
