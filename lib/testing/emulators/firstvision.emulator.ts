import { type EmulatorDialect, type TokenRequestCheck, rfc6749TokenBody } from './emulator-dialect.js';
import type {
  EmulatorErrorNames,
  EmulatorRequest,
  ErrorDetails,
  FirstVisionEmulatorOptions,
  RawReply,
} from './emulator.types.js';
import type { CredentialBook } from './credential-book.js';
import { fieldProblem, jsonObject, mediaType, readBasic } from './request-checks.js';

type FirstVisionError = EmulatorErrorNames['firstvision'];

/** Status, errorCode and title. Only 240101 is the provider's; the others are the emulator's own. */
const CODES: Record<FirstVisionError, [status: number, errorCode: string, title: string, detail: string]> = {
  invalid_credentials: [401, '240101', 'Unauthorized', 'Invalid client credentials or scope'],
  bad_request: [400, '240400', 'Bad Request', 'Invalid request'],
  rate_limited: [429, '240429', 'Too Many Requests', 'Rate limit exceeded'],
  server_error: [500, '240500', 'Internal Server Error', 'Unexpected error'],
  service_unavailable: [503, '240503', 'Service Unavailable', 'Service temporarily unavailable'],
};

const MAX_SCOPE_LENGTH = 50;

/** FirstVision's error body: a JSON ARRAY of problem objects. */
function problem(error: FirstVisionError, request: EmulatorRequest, reason?: string): RawReply {
  const [status, errorCode, title, detail] = CODES[error];
  return {
    status,
    body: [
      {
        detail: 'Please refer to invalid-params for error details',
        errorCode,
        instance: request.path,
        'invalid-params': [reason ?? detail],
        source: 'AGT',
        status,
        title,
      },
    ],
  };
}

type Ask = { id: unknown; secret: unknown; scope: unknown } | { reject: string };

/** The seed's form: Basic header, `grant_type` and `scope` in the query, an empty body. */
function readBasicQuery(request: EmulatorRequest, encoding: 'rfc6749' | 'raw'): Ask {
  const extra = Object.keys(request.query).find((name) => name !== 'grant_type' && name !== 'scope');
  if (extra !== undefined) return { reject: `Unexpected query parameter ${extra}` };
  if (request.query.grant_type !== 'client_credentials') return { reject: 'grant_type must be client_credentials' };
  if (request.body.length > 0) return { reject: 'Request body should be empty' };
  const basic = readBasic(request, encoding);
  return { id: basic?.id, secret: basic?.secret, scope: request.query.scope };
}

/** The later form: everything in a JSON body, nothing in the query. */
function readJsonBody(request: EmulatorRequest): Ask {
  if (Object.keys(request.query).length > 0) return { reject: 'Unexpected query parameters' };
  if (mediaType(request) !== 'application/json') return { reject: 'Content-Type must be application/json' };
  const body = jsonObject(request);
  if (body === undefined) return { reject: 'Malformed JSON body' };
  const shape = fieldProblem(body, ['grant_type', 'scope', 'client_id', 'client_secret']);
  if (shape !== undefined) return { reject: `Invalid body: ${shape.text}` };
  if (body.grant_type !== 'client_credentials') return { reject: 'grant_type must be client_credentials' };
  return { id: body.client_id, secret: body.client_secret, scope: body.scope };
}

/**
 * Fiserv FirstVision APAC: `POST /v1/api/oauth/token`, in the tenant's `variant`. A scope is
 * required (at most 50 characters); tokens are RS256 JWTs whose `exp` the absolute `expires_in`
 * repeats; errors are a JSON array.
 */
export function firstVisionDialect(options: FirstVisionEmulatorOptions): EmulatorDialect<'firstvision'> {
  const variant = options.variant ?? 'basic-query';
  const allowed = options.scopes;

  return {
    name: 'firstvision',
    tokenPath: '/v1/api/oauth/token',
    tokenFormat: 'jwt',
    expiresIn: 'absolute',

    checkTokenRequest(request: EmulatorRequest, credentials: CredentialBook): TokenRequestCheck {
      const ask =
        variant === 'basic-query' ? readBasicQuery(request, options.basicEncoding ?? 'rfc6749') : readJsonBody(request);
      if ('reject' in ask) return { ok: false, reply: problem('bad_request', request, ask.reject) };
      if (typeof ask.scope !== 'string' || ask.scope.trim() === '') {
        return { ok: false, reply: problem('bad_request', request, 'scope is required') };
      }
      if (ask.scope.length > MAX_SCOPE_LENGTH)
        return { ok: false, reply: problem('bad_request', request, 'scope is too long') };
      const scopeAllowed = allowed === undefined || ask.scope.split(' ').every((s) => allowed.includes(s));
      if (!credentials.matches(ask.id, ask.secret) || !scopeAllowed)
        return { ok: false, reply: problem('invalid_credentials', request) };
      return { ok: true, grant: { clientId: String(ask.id), scope: ask.scope } };
    },

    tokenReply: (token) => ({ status: 200, body: rfc6749TokenBody(token, 'Bearer') }),

    jwtClaims: () => ({ firstVisionId: '00000AUNAB' }),

    errorReply: (error, details: ErrorDetails, request) => problem(error, request, details.description),
    invalidTokenReply: (request) => problem('invalid_credentials', request, 'Invalid or expired access token'),
    notFoundReply: (request) => ({
      status: 404,
      body: [
        {
          detail: 'Resource not found',
          errorCode: '240404',
          instance: request.path,
          source: 'AGT',
          status: 404,
          title: 'Not Found',
        },
      ],
    }),
    methodNotAllowedReply: (request) => ({
      status: 405,
      body: [
        {
          detail: 'Method not allowed',
          errorCode: '240405',
          instance: request.path,
          source: 'AGT',
          status: 405,
          title: 'Method Not Allowed',
        },
      ],
    }),

    clientOptions: (baseUrl, credentials) => ({
      strategy: 'firstvision',
      baseUrl,
      ...credentials,
      scope: allowed?.[0] ?? 'edit',
      variant,
    }),
  };
}
