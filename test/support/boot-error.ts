import { expect } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { OAuthConfigError, OAuthModule, type OAuthClientOptions, type OAuthModuleOptions } from '../../lib/index.js';

/** Boots `OAuthModule` with one client named `billing` and returns the `OAuthConfigError` it must fail with. */
export async function bootError(
  client: Record<string, unknown>,
  extra: Partial<OAuthModuleOptions> = {},
): Promise<OAuthConfigError> {
  const options = { logger: false as const, ...extra, clients: { billing: client as unknown as OAuthClientOptions } };
  const error = await Test.createTestingModule({ imports: [OAuthModule.forRoot(options)] })
    .compile()
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(OAuthConfigError);
  return error as OAuthConfigError;
}
