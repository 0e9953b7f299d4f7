import 'reflect-metadata';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  OAuthModule,
  TokenService,
  TokenRequestError,
  type OAuthClientOptions,
  type OAuthModuleOptions,
} from '../../../lib/index.js';
import {
  FakeClock,
  startEmulator,
  type Emulator,
  type EmulatorName,
  type EmulatorOptionsByName,
} from '../../../lib/testing/index.js';
import { CaptureLogger } from '../../support/capture-logger.js';

/**
 * One test's emulators and Nest modules, sharing a FakeClock (so retries and expiry need no
 * sleeping), all closed by `close()` in afterEach.
 */
export class ProviderHarness {
  readonly clock = new FakeClock();
  readonly logger = new CaptureLogger();
  private readonly closers: Array<() => Promise<void>> = [];

  async emulator<N extends EmulatorName>(name: N, options: EmulatorOptionsByName[N] = {}): Promise<Emulator<N>> {
    const emulator = await startEmulator(name, { clock: this.clock, ...options });
    this.closers.push(() => emulator.close());
    return emulator;
  }

  async module(
    clients: Record<string, OAuthClientOptions>,
    options: Partial<OAuthModuleOptions> = {},
  ): Promise<TestingModule> {
    const moduleRef = await Test.createTestingModule({
      imports: [OAuthModule.forRoot({ clock: this.clock, logger: this.logger, ...options, clients })],
    }).compile();
    this.closers.push(() => moduleRef.close());
    return moduleRef;
  }

  async tokens(
    clients: Record<string, OAuthClientOptions>,
    options: Partial<OAuthModuleOptions> = {},
  ): Promise<TokenService> {
    return (await this.module(clients, options)).get(TokenService);
  }

  async close(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close();
  }
}

/** The `TokenRequestError` a promise rejects with (fails the test if it resolves or throws another). */
export async function tokenError(promise: Promise<unknown>): Promise<TokenRequestError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TokenRequestError) return error;
    throw error;
  }
  throw new Error('expected a TokenRequestError, but a token came');
}

/** The claims of a JWT, without checking the signature. */
export function jwtClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
