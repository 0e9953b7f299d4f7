import { alternativePaymentsDialect, alternativePaymentsRateLimit } from './alternative-payments.emulator.js';
import type { EmulatorDialect } from './emulator-dialect.js';
import { EmulatorServer } from './emulator-server.js';
import type { Emulator, EmulatorName, EmulatorOptionsByName, EmulatorRequest, RawReply } from './emulator.types.js';
import { firstVisionDialect } from './firstvision.emulator.js';
import { oauth2Dialect } from './oauth2.emulator.js';
import { palisadeDialect } from './palisade.emulator.js';
import { youHodlerDialect } from './youhodler.emulator.js';

/** Every emulator name, e.g. to start them all in a sample app. */
export const EMULATOR_NAMES: readonly EmulatorName[] = ['oauth2', 'youhodler', 'palisade', 'firstvision', 'alternative-payments'];

type Gate = (request: EmulatorRequest, now: number) => RawReply | undefined;

function dialectFor<N extends EmulatorName>(name: N, options: EmulatorOptionsByName[N]): [EmulatorDialect<N>, Gate?] {
  const o = options as EmulatorOptionsByName[EmulatorName];
  const pick = (): [EmulatorDialect<EmulatorName>, Gate?] => {
    switch (name) {
      case 'oauth2':
        return [oauth2Dialect(o)];
      case 'youhodler':
        return [youHodlerDialect];
      case 'palisade':
        return [palisadeDialect((o as EmulatorOptionsByName['palisade']).grantedScope)];
      case 'firstvision':
        return [firstVisionDialect(o)];
      case 'alternative-payments':
        return [alternativePaymentsDialect(o), alternativePaymentsRateLimit(o)];
    }
    throw new TypeError(`startEmulator: unknown emulator "${String(name)}"; use one of ${EMULATOR_NAMES.join(', ')}`);
  };
  return pick() as [EmulatorDialect<N>, Gate?];
}

/**
 * Starts a provider's emulated API on `127.0.0.1` (a free port) and resolves once it listens.
 *
 * ```ts
 * const palisade = await startEmulator('palisade', { basePath: '/sandbox', clock });
 * OAuthModule.forRoot({ clock, clients: { palisade: palisade.clientOptions() } });
 * palisade.failNext('unavailable');      // the next token request gets a 503 google.rpc.Status
 * await palisade.close();
 * ```
 */
export async function startEmulator<N extends EmulatorName>(name: N, options: EmulatorOptionsByName[N] = {}): Promise<Emulator<N>> {
  const [dialect, gate] = dialectFor(name, options);
  return new EmulatorServer(dialect, options, gate).listen();
}
