import { alternativePaymentsDialect, alternativePaymentsRateLimit } from './alternative-payments.emulator.js';
import type { EmulatorDialect } from './emulator-dialect.js';
import { EmulatorServer } from './emulator-server.js';
import type { Emulator, EmulatorName, EmulatorOptionsByName, EmulatorRequest, RawReply } from './emulator.types.js';
import { firstVisionDialect } from './firstvision.emulator.js';
import { oauth2Dialect } from './oauth2.emulator.js';
import { palisadeDialect } from './palisade.emulator.js';
import { youHodlerDialect } from './youhodler.emulator.js';

type Gate = (request: EmulatorRequest, now: number) => RawReply | undefined;

/** The emulator of each built-in dialect: its dialect and, where the provider limits rates, a gate. */
const EMULATORS: { [N in EmulatorName]: (options: EmulatorOptionsByName[N]) => [EmulatorDialect<N>, Gate?] } = {
  oauth2: (options) => [oauth2Dialect(options)],
  youhodler: () => [youHodlerDialect],
  palisade: (options) => [palisadeDialect(options.grantedScope)],
  firstvision: (options) => [firstVisionDialect(options)],
  'alternative-payments': (options) => [alternativePaymentsDialect(options), alternativePaymentsRateLimit(options)],
};

/** Every emulator name, e.g. to start them all in a sample app. */
export const EMULATOR_NAMES = Object.keys(EMULATORS) as readonly EmulatorName[];

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
export async function startEmulator<N extends EmulatorName>(
  name: N,
  options: EmulatorOptionsByName[N] = {},
): Promise<Emulator<N>> {
  if (!Object.hasOwn(EMULATORS, name)) {
    throw new TypeError(`startEmulator: unknown emulator "${String(name)}"; use one of ${EMULATOR_NAMES.join(', ')}`);
  }
  const [dialect, gate] = EMULATORS[name](options);
  return new EmulatorServer(dialect, options, gate).listen();
}
