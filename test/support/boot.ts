import 'reflect-metadata';
import { Test, type TestingModule } from '@nestjs/testing';
import { OAuthModule, TokenService, type OAuthClientOptions, type OAuthModuleOptions } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/index.js';
import { CaptureLogger } from './capture-logger.js';

export interface Booted {
  moduleRef: TestingModule;
  tokens: TokenService;
  clock: FakeClock;
  logger: CaptureLogger;
  close(): Promise<void>;
}

/** What else the testing module holds beside OAuthModule (HttpModule, feature modules, …). */
export interface TestModuleParts {
  imports?: unknown[];
  providers?: unknown[];
}

/** Boots OAuthModule.forRoot with a fake clock and a capturing logger; `close()` closes it. */
export async function bootOAuth(
  clients: Record<string, OAuthClientOptions>,
  options: Partial<OAuthModuleOptions> = {},
  parts: TestModuleParts = {},
): Promise<Booted> {
  const clock = (options.clock as FakeClock | undefined) ?? new FakeClock();
  const logger = new CaptureLogger();
  const moduleRef = await Test.createTestingModule({
    imports: [OAuthModule.forRoot({ logger, clock, ...options, clients }), ...((parts.imports ?? []) as [])],
    providers: (parts.providers ?? []) as [],
  }).compile();
  await moduleRef.init();
  return { moduleRef, tokens: moduleRef.get(TokenService), clock, logger, close: () => moduleRef.close() };
}

/** Settles pending promise callbacks (the background refresh is started without being awaited). */
export async function flushMicrotasks(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
