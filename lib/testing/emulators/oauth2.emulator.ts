import { type EmulatorDialect, type TokenRequestCheck, rfc6749TokenBody } from './emulator-dialect.js';
import type {
  EmulatorErrorNames,
  EmulatorRequest,
  ErrorDetails,
  OAuth2EmulatorOptions,
  RawReply,
} from './emulator.types.js';
import type { CredentialBook } from './credential-book.js';
import { mediaType, readBasic, repeatedParam } from './request-checks.js';

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
};

function rfcError(error: OAuth2Error, description?: string, headers?: Record<string, string>): RawReply {
  return {
    status: STATUS[error],
    body: { error, ...(description === undefined ? {} : { error_description: description }) },
    ...(headers === undefined ? {} : { headers }),
  };
}

const reject = (error: OAuth2Error, description: string, headers?: Record<string, string>): TokenRequestCheck => ({
  ok: false,
  reply: rfcError(error, description, headers),
});

/**
 * A plain RFC 6749 §4.4 server: `POST /oauth/token`, form body, client_secret_basic or
 * client_secret_post (exactly one), optional scope checked against `scopes`. Unknown parameters
 * (audience, resource, …) are ignored, as §3.2 says.
 */
export function oauth2Dialect(options: OAuth2EmulatorOptions): EmulatorDialect<'oauth2'> {
  const methods = options.authMethods ?? ['client_secret_basic', 'client_secret_post'];
  const allowed = options.scopes;

  function authenticate(
    request: EmulatorRequest,
    credentials: CredentialBook,
  ): TokenRequestCheck | { clientId: string } {
    const form = request.form ?? {};
    const hasHeader = request.headers.authorization !== undefined;
    const hasBody = form.client_id !== undefined || form.client_secret !== undefined;
    if (hasHeader && hasBody) return reject('invalid_request', 'more than one client authentication method');
    const basicChallenge = { 'www-authenticate': 'Basic realm="oauth2-emulator"' };
    if (hasHeader) {
      const basic = readBasic(request, options.basicEncoding);
      if (
        !methods.includes('client_secret_basic') ||
        basic === undefined ||
        !credentials.matches(basic.id, basic.secret)
      ) {
        return reject('invalid_client', 'client authentication failed', basicChallenge);
      }
      return { clientId: basic.id };
    }
    if (!methods.includes('client_secret_post') || !credentials.matches(form.client_id, form.client_secret)) {
      return reject(
        'invalid_client',
        'client authentication failed',
        methods.includes('client_secret_basic') ? basicChallenge : undefined,
      );
    }
    return { clientId: form.client_id! };
  }

  return {
    name: 'oauth2',
    tokenPath: '/oauth/token',
    tokenFormat: 'opaque',
    expiresIn: 'seconds',

    checkTokenRequest(request, credentials) {
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
      const client = authenticate(request, credentials);
      if ('ok' in client) return client;
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
        body: rfc6749TokenBody(token, 'Bearer', token.scope === undefined ? {} : { scope: token.scope }),
        headers: { 'cache-control': 'no-store', pragma: 'no-cache' },
      };
    },

    errorReply: (error, details: ErrorDetails) =>
      rfcError(
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

    clientOptions: (baseUrl, credentials) => ({
      strategy: 'oauth2',
      baseUrl,
      ...credentials,
      ...(methods.includes('client_secret_basic') ? {} : { authMethod: 'client_secret_post' as const }),
      ...(allowed === undefined ? {} : { scope: allowed }),
    }),
  };
}
