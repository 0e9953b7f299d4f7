import { randomBytes } from 'node:crypto';
import { startEmulator, type Emulator, type EmulatorClock } from 'nestjs-client-credentials/testing';
import { envNames, type Provider } from './providers.js';

export interface EmulatedProviders {
  /** Configuration that points the app at the emulators, as environment variables would. */
  env: Record<string, string>;
  emulators: ReadonlyMap<string, Emulator>;
  close(): Promise<void>;
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
      const emulator = await startEmulator(provider.strategy, {
        clientId: `sample-${provider.name}`,
        clientSecret: randomBytes(18).toString('base64url'),
        // FirstVision lives under a tenant path; the client keeps it in baseUrl.
        basePath: provider.strategy === 'firstvision' ? '/sandbox' : undefined,
        clock,
      });
      emulators.set(provider.name, emulator);
      const names = envNames(provider);
      Object.assign(env, {
        [names.baseUrl]: emulator.baseUrl,
        [names.clientId]: emulator.clientId,
        [names.clientSecret]: emulator.clientSecret,
      });
    }
  } catch (error) {
    await Promise.all([...emulators.values()].map((e) => e.close()));
    throw error;
  }
  return { env, emulators, close: async () => void (await Promise.all([...emulators.values()].map((e) => e.close()))) };
}
