import { digest } from '../common/fingerprint.js';
import { schemaIssues, type ConfigIssue } from '../common/validation.js';
import type { TokenTlsOptions } from '../interfaces/client-options.interface.js';
import {
  externalAssertions,
  signedAssertions,
  type AssertionMaker,
  type AssertionRequest,
} from './client-assertion.js';
import type { CredentialProvider } from '../interfaces/client-options.interface.js';
import type {
  ClientAssertionAlgorithm,
  ClientAuthMethod,
  ClientAuthOptions,
  PrivateKeyInput,
} from './client-auth.options.js';
import { ASSERTION_ALGORITHMS, AssertionSchema, ClientAuthSchema } from './client-auth.schema.js';
import { readPrivateKey } from './private-key.js';
import { hmacSigner, signingKey, type JwsSigner } from './signing-key.js';

/** How one client authenticates, resolved at boot. Holds the key (a `KeyObject`) only inside `assertion`. */
export interface ClientAuth {
  /** As configured; `undefined` leaves it to the strategy (the shared secret). */
  readonly method: ClientAuthMethod | undefined;
  /** False for the methods that send no secret (`private_key_jwt`, the TLS ones). */
  readonly secretRequired: boolean;
  /** The `client_assertion` of one attempt, for the JWT methods; `aud` is decided here. */
  readonly assertion?: (request: Omit<AssertionRequest, 'audience'>) => Promise<string>;
  /** What besides id and secret tells this client's tokens apart: a key's thumbprint, a certificate's hash. */
  readonly cacheKeyPart?: string;
  /** A `privateKey` provider: called for each token request, its key handed to `assertion`. */
  readonly keyProvider?: CredentialProvider<PrivateKeyInput>;
}

export interface ResolvedClientAuth {
  auth: ClientAuth;
  issues: ConfigIssue[];
  /** Options accepted but not used, said once at boot. */
  warnings: string[];
}

const SECRETLESS: ReadonlySet<ClientAuthMethod> = new Set([
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
]);
const TLS_METHODS: ReadonlySet<ClientAuthMethod> = new Set(['tls_client_auth', 'self_signed_tls_client_auth']);
const SHARED_SECRET: ClientAuth = { method: undefined, secretRequired: true };

type Options = ClientAuthOptions & { clientSecret?: unknown };

/**
 * Reads the client-auth options of a client whose strategy declares `authMethods`: checks them all
 * (every problem, each naming its field), reads the key once and builds what signs the assertions.
 */
export function resolveClientAuth(
  options: Options,
  supported: readonly ClientAuthMethod[] | undefined,
  context: { tls: TokenTlsOptions | undefined; issuer: string | undefined },
): ResolvedClientAuth {
  if (supported === undefined) return { auth: SHARED_SECRET, issues: [], warnings: [] };
  const issues = [...schemaIssues(ClientAuthSchema, options)];
  const warnings: string[] = [];
  if (typeof options.assertion === 'object' && options.assertion !== null) {
    issues.push(...schemaIssues(AssertionSchema, options.assertion, 'assertion.'));
  }
  const method = options.authMethod;
  if (method !== undefined && !supported.includes(method)) {
    const names = supported.map((name) => `'${name}'`);
    const problem = `must be ${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
    // Whether a secret is needed depends on the method meant: no second problem about it.
    const unknown = { method: undefined, secretRequired: false };
    return { auth: unknown, issues: [...issues, { field: 'authMethod', problem }], warnings };
  }
  if (options.clientAssertion !== undefined && typeof options.clientAssertion !== 'function') {
    issues.push({ field: 'clientAssertion', problem: 'must be a function returning the assertion' });
  }
  for (const field of ['privateKey', 'clientAssertion'] as const) {
    if (options[field] !== undefined && method !== 'private_key_jwt') {
      issues.push({
        field,
        problem: `is only used with authMethod 'private_key_jwt' (authMethod is ${quoted(method)})`,
      });
    }
  }
  const secretless = method !== undefined && SECRETLESS.has(method);
  if (secretless && options.clientSecret !== undefined) {
    warnings.push(`option "clientSecret" is not sent: authMethod '${method}' sends none.`);
  }
  const signs = method === 'private_key_jwt' || method === 'client_secret_jwt';
  for (const field of ['algorithm', 'keyId', 'assertion'] as const) {
    if (!signs && options[field] !== undefined) {
      warnings.push(`option "${field}" is not used: authMethod ${quoted(method)} sends no assertion.`);
    }
  }

  const { issuer } = context;
  if (method === 'private_key_jwt') return { auth: privateKeyJwt(options, issuer, issues), issues, warnings };
  if (method === 'client_secret_jwt') return { auth: clientSecretJwt(options, issuer, issues), issues, warnings };
  const auth = { method, secretRequired: !secretless };
  if (method !== undefined && TLS_METHODS.has(method)) {
    const tls = context.tls;
    const certificate = tls?.pfx ?? (tls?.cert !== undefined && tls.key !== undefined ? tls.cert : undefined);
    if (certificate === undefined) {
      issues.push({
        field: 'tls',
        problem: `must hold cert and key (or pfx): authMethod '${method}' sends the certificate`,
      });
    }
    const part = certificate === undefined ? undefined : `x5t:${digest(String(certificate))}`;
    return { auth: { ...auth, ...(part === undefined ? {} : { cacheKeyPart: part }) }, issues, warnings };
  }
  return { auth, issues, warnings };
}

function quoted(method: ClientAuthMethod | undefined): string {
  return method === undefined ? 'not set' : `'${method}'`;
}

/** The `aud` rule: `assertion.audience`, else the issuer, else the token URL. */
function withAudience(make: AssertionMaker, options: Options, issuer: string | undefined): ClientAuth['assertion'] {
  const configured = options.assertion?.audience;
  return (request) => make({ ...request, audience: configured ?? issuer ?? request.tokenUrl });
}

function privateKeyJwt(options: Options, issuer: string | undefined, issues: ConfigIssue[]): ClientAuth {
  const auth = { method: 'private_key_jwt' as const, secretRequired: false };
  const { privateKey, clientAssertion } = options;
  if (typeof clientAssertion === 'function') {
    if (privateKey !== undefined) {
      issues.push({ field: 'clientAssertion', problem: 'and "privateKey" are both set: keep one' });
    }
    return { ...auth, assertion: withAudience(externalAssertions(clientAssertion), options, issuer) };
  }
  if (privateKey === undefined) {
    if (clientAssertion === undefined) {
      issues.push({
        field: 'privateKey',
        problem: `or "clientAssertion" is required with authMethod 'private_key_jwt'`,
      });
    }
    return auth;
  }
  const algorithm = options.algorithm;
  if (typeof privateKey === 'function') {
    if (algorithm !== undefined && !ASSERTION_ALGORITHMS.includes(algorithm)) return auth; // reported by the schema
    // Read (and checked) for each token request: the cache key names the provider, not a thumbprint.
    const signer = providedKeySigner(options.privateKeyPassphrase, { algorithm, kid: options.keyId });
    const assertion = withAudience(signedAssertions(signer, options.assertion), options, issuer);
    return { ...auth, assertion, keyProvider: privateKey, cacheKeyPart: 'jkt:provider' };
  }
  const read = readPrivateKey(privateKey, options.privateKeyPassphrase);
  if ('field' in read) {
    issues.push(read);
    return auth;
  }
  if (algorithm !== undefined && !ASSERTION_ALGORITHMS.includes(algorithm)) return auth; // reported by the schema
  const key = signingKey(read.key, { algorithm, kid: options.keyId ?? read.jwkKid });
  if ('field' in key) {
    issues.push(key);
    return auth;
  }
  const assertion = withAudience(
    signedAssertions(() => key, options.assertion),
    options,
    issuer,
  );
  return { ...auth, assertion, cacheKeyPart: `jkt:${key.thumbprint}` };
}

/** Signs with the key a `privateKey` provider gave for this attempt; an unusable one names the problem, not the key. */
function providedKeySigner(
  passphrase: string | undefined,
  options: { algorithm?: ClientAssertionAlgorithm; kid?: string },
): (request: Omit<AssertionRequest, 'audience'>) => JwsSigner {
  return ({ privateKey }) => {
    if (privateKey === undefined) throw new ProvidedKeyError({ field: 'privateKey', problem: 'was not provided' });
    const read = readPrivateKey(privateKey, passphrase);
    if ('field' in read) throw new ProvidedKeyError(read);
    const key = signingKey(read.key, { algorithm: options.algorithm, kid: options.kid ?? read.jwkKid });
    if ('field' in key) throw new ProvidedKeyError(key);
    return key;
  };
}

/** A key from a `privateKey` provider that cannot sign; its message holds the problem only. */
export class ProvidedKeyError extends Error {
  constructor(readonly issue: ConfigIssue) {
    super(`option "${issue.field}" ${issue.problem}`);
    this.name = 'ProvidedKeyError';
  }
}

function clientSecretJwt(options: Options, issuer: string | undefined, issues: ConfigIssue[]): ClientAuth {
  if (options.algorithm !== undefined && options.algorithm !== 'HS256') {
    issues.push({ field: 'algorithm', problem: `must be HS256 with authMethod 'client_secret_jwt'` });
  }
  const kid = options.keyId;
  return {
    method: 'client_secret_jwt',
    secretRequired: true,
    assertion: withAudience(
      signedAssertions(({ clientSecret }) => hmacSigner(clientSecret, kid), options.assertion),
      options,
      issuer,
    ),
  };
}
