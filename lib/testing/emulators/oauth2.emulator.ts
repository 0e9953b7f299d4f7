import { type EmulatorDialect, type TokenRequestCheck, rfc6749TokenBody } from './emulator-dialect.js';
import type { EmulatorErrorNames, ErrorDetails, OAuth2EmulatorOptions, RawReply } from './emulator.types.js';
import { authorizationServerMetadata } from './emulator-discovery.js';
import { DPOP_ALGORITHMS, dpopResourceErrorReply } from './dpop-verifier.js';
import { oauth2ClientAuthenticator, SECRET_METHODS } from './oauth2-client-auth.js';
import { mediaType, repeatedParam } from './request-checks.js';

type OAuth2Error = EmulatorErrorNames['oauth2'];

/** RFC 6749 §5.2 statuses; `rate_limited` is not RFC 6749 but what many servers send with a 429. */
const STATUS: Record<OAuth2Error, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  rate_limited: 429,
  server_error: 500,
  temporarily_unavailable: 503,
  // RFC 9449 §5 at the token endpoint; the resource answers these with a 401 and a DPoP challenge.
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
};

function rfcError(error: OAuth2Error, description?: string, headers?: Record<string, string>): RawReply {
  return {
    status: STATUS[error],
    body: { error, ...(description === undefined ? {} : { error_description: description }) },
    ...(headers === undefined ? {} : { headers }),
  };
}

const DPOP_DESCRIPTIONS = {
  invalid_dpop_proof: 'the DPoP proof is invalid',
  use_dpop_nonce: 'the resource server requires a nonce in the DPoP proof',
};

const reject = (error: OAuth2Error, description: string, headers?: Record<string, string>): TokenRequestCheck => ({
  ok: false,
  reply: rfcError(error, description, headers),
});

/**
 * A plain RFC 6749 §4.4 server: `POST /oauth/token`, form body, one client authentication method
 * (secrets by default; JWT assertions and client certificates on request), optional scope checked
 * against `scopes`. Unknown parameters (audience, resource, …) are ignored, as §3.2 says. It
 * publishes RFC 8414 metadata. With `dpop`, tokens are DPoP-bound (RFC 9449; the proofs are checked
 * by the shared server).
 */
export function oauth2Dialect(options: OAuth2EmulatorOptions): EmulatorDialect<'oauth2'> {
  const methods = options.authMethods ?? ['client_secret_basic', 'client_secret_post'];
  const allowed = options.scopes;
  const authenticate = oauth2ClientAuthenticator(options, methods);
  const dpop = options.dpop ? { requireNonce: options.dpop !== true && options.dpop.requireNonce === true } : undefined;
  // The method clientOptions() sets up: the first beyond the secrets, else Basic (the library's default).
  const preferred =
    methods.find((m) => !SECRET_METHODS.includes(m)) ??
    (methods.includes('client_secret_basic') ? undefined : 'client_secret_post');

  return {
    name: 'oauth2',
    tokenPath: '/oauth/token',
    tokenFormat: 'opaque',
    expiresIn: 'seconds',
    ...(dpop === undefined ? {} : { dpop }),

    checkTokenRequest(request, credentials, now, endpoint) {
      if (mediaType(request) !== 'application/x-www-form-urlencoded') {
        return reject('invalid_request', 'the body must be application/x-www-form-urlencoded');
      }
      const repeated = repeatedParam(request.body);
      if (repeated !== undefined && repeated !== 'resource')
        return reject('invalid_request', `parameter ${repeated} is repeated`);
      const form = request.form ?? {};
      if (form.grant_type === undefined) return reject('invalid_request', 'grant_type is missing');
      if (form.grant_type !== 'client_credentials')
        return reject('unsupported_grant_type', 'only client_credentials is supported');
      const client = authenticate(request, credentials, endpoint, now);
      if (!client.ok) {
        const challenge = client.basicChallenge ? { 'www-authenticate': 'Basic realm="oauth2-emulator"' } : undefined;
        const reply = rfcError(client.error, client.description, challenge);
        return { ok: false, reply: client.status === undefined ? reply : { ...reply, status: client.status } };
      }
      const requested = form.scope?.split(' ').filter(Boolean);
      if (requested !== undefined && allowed !== undefined && !requested.every((s) => allowed.includes(s))) {
        return reject('invalid_scope', 'a requested scope is not allowed for this client');
      }
      const scope = requested?.join(' ') ?? allowed?.join(' ');
      return { ok: true, grant: { clientId: client.clientId, ...(scope ? { scope } : {}) } };
    },

    tokenReply(token) {
      return {
        status: 200,
        body: rfc6749TokenBody(
          token,
          token.jkt === undefined ? 'Bearer' : 'DPoP',
          token.scope === undefined ? {} : { scope: token.scope },
        ),
        headers: { 'cache-control': 'no-store', pragma: 'no-cache' },
      };
    },

    errorReply: (error, details: ErrorDetails, request) =>
      request.kind === 'resource' && (error === 'invalid_dpop_proof' || error === 'use_dpop_nonce')
        ? dpopResourceErrorReply(error, details.description ?? DPOP_DESCRIPTIONS[error])
        : rfcError(
            error,
            details.description,
            error === 'rate_limited' && details.retryAfterSeconds === undefined ? { 'retry-after': '1' } : undefined,
          ),
    invalidTokenReply: () => rfcError('invalid_client', 'invalid or expired access token'),
    notFoundReply: () => ({ status: 404, body: { error: 'not_found' } }),
    methodNotAllowedReply: () => ({
      status: 405,
      body: { error: 'invalid_request', error_description: 'method not allowed' },
    }),

    metadata: (endpoint) => ({
      ...authorizationServerMetadata(endpoint, methods, allowed),
      ...(dpop === undefined ? {} : { dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS] }),
    }),

    clientOptions: (baseUrl, { clientId, clientSecret }) => ({
      strategy: 'oauth2',
      baseUrl,
      clientId,
      // A key or a certificate replaces the secret; the caller adds `privateKey` or `tls`.
      ...(preferred === 'private_key_jwt' || preferred?.endsWith('tls_client_auth') ? {} : { clientSecret }),
      ...(preferred === undefined ? {} : { authMethod: preferred }),
      ...(allowed === undefined ? {} : { scope: allowed }),
      ...(dpop === undefined ? {} : { dpop: true }),
    }),
  };
}
