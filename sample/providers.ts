import type { BuiltInStrategyName } from 'nestjs-client-credentials';
import type { EmulatorErrorNames, ErrorDetails } from 'nestjs-client-credentials/testing';

/** One upstream API the sample calls. Everything provider-specific in the sample is in this table. */
export interface Provider<S extends BuiltInStrategyName = BuiltInStrategyName> {
  /** The OAuthModule client name, and the route segment in `GET /providers/:name/ping`. */
  name: string;
  strategy: S;
  label: string;
  /** Prefix of the environment variables that point the sample at the real API. */
  env: string;
  /** A scope to ask for, where the dialect takes one. */
  scope?: string;
  /** How this provider says "slow down", for the 429 step against its emulator. */
  rateLimited: { error: EmulatorErrorNames[S] } & ErrorDetails;
  /**
   * How the client proves who it is. Absent: the dialect's shared secret (`<ENV>_CLIENT_SECRET`).
   * `private_key_jwt` (`oauth2` only): a JWT assertion signed by `<ENV>_PRIVATE_KEY` (PEM), with
   * `<ENV>_KEY_ID` as its `kid`; no secret at all.
   */
  auth?: S extends 'oauth2' ? 'private_key_jwt' : never;
  /**
   * Sender-constrained tokens (DPoP, RFC 9449): every call proves possession of `<ENV>_DPOP_KEY`
   * (a PEM; absent, a key made at boot).
   */
  dpop?: S extends 'oauth2' ? true : never;
}

const provider = <S extends BuiltInStrategyName>(entry: Provider<S>) => entry;

export const PROVIDERS: readonly Provider[] = [
  provider({
    name: 'youhodler',
    strategy: 'youhodler',
    label: 'YouHodler Business API',
    env: 'YOUHODLER',
    rateLimited: { error: 'rate_limited', retryAfterMs: 1000 },
  }),
  provider({
    name: 'palisade',
    strategy: 'palisade',
    label: 'Palisade (Ripple WaaS)',
    env: 'PALISADE',
    rateLimited: { error: 'resource_exhausted', retryAfterSeconds: 1 },
  }),
  provider({
    name: 'firstvision',
    strategy: 'firstvision',
    label: 'Fiserv FirstVision',
    env: 'FIRSTVISION',
    scope: 'edit',
    rateLimited: { error: 'rate_limited', retryAfterSeconds: 1 },
  }),
  provider({
    name: 'alternative-payments',
    strategy: 'alternative-payments',
    label: 'Alternative Payments',
    env: 'ALTERNATIVE_PAYMENTS',
    rateLimited: { error: 'rate_limited', retryAfterSeconds: 1 },
  }),
  provider({
    name: 'billing',
    strategy: 'oauth2',
    label: 'plain OAuth 2.0 (RFC 6749)',
    env: 'BILLING',
    scope: 'invoices:read',
    rateLimited: { error: 'rate_limited', retryAfterSeconds: 1 },
  }),
  provider({
    name: 'ledger',
    strategy: 'oauth2',
    label: 'FAPI 2.0 style: a signed JWT assertion (private_key_jwt) and DPoP-bound tokens',
    env: 'LEDGER',
    scope: 'ledger:read',
    auth: 'private_key_jwt',
    dpop: true,
    rateLimited: { error: 'rate_limited', retryAfterSeconds: 1 },
  }),
];

/** Environment variable names of one provider: `<ENV>_CLIENT_ID`, `<ENV>_BASE_URL`, … */
export function envNames(provider: Provider) {
  const name = (suffix: string) => `${provider.env}_${suffix}`;
  return {
    baseUrl: name('BASE_URL'),
    tokenUrl: name('TOKEN_URL'),
    clientId: name('CLIENT_ID'),
    clientSecret: name('CLIENT_SECRET'),
    privateKey: name('PRIVATE_KEY'),
    keyId: name('KEY_ID'),
    scope: name('SCOPE'),
    pingPath: name('PING_PATH'),
    dpopKey: name('DPOP_KEY'),
  };
}

/** Whether the provider's client signs a JWT assertion with a private key instead of sending a secret. */
export const usesPrivateKey = (provider: Provider): provider is Provider<'oauth2'> =>
  provider.auth === 'private_key_jwt';

/** A provider whose client id is in the real environment is called for real, else emulated. */
export function isConfiguredForReal(provider: Provider, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env[envNames(provider).clientId]);
}
