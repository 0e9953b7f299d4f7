import { type EmulatorDialect, rfc6749TokenBody } from './emulator-dialect.js';
import type { EmulatorErrorNames, ErrorDetails, RawReply } from './emulator.types.js';
import { fieldProblem, jsonObject, mediaType } from './request-checks.js';

type YouHodlerError = EmulatorErrorNames['youhodler'];

/** `{ code, message, details }`, as every YouHodler error. */
function problem(status: number, code: string, message: string, details?: Record<string, unknown>): RawReply {
  return { status, body: { code, message, ...(details === undefined ? {} : { details }) } };
}

const invalid = (reason: string) => problem(400, 'invalid_request', 'Request is invalid.', { reason });

/** The documented statuses, with the seed's example bodies. `unauthorized` is the emulator's own. */
function catalogue(error: YouHodlerError, { retryAfterMs, description }: ErrorDetails): RawReply {
  switch (error) {
    case 'invalid_request':
      return problem(400, error, description ?? 'Request is invalid.', { reason: 'capability_scope_mismatch' });
    case 'unauthorized':
      return problem(401, error, description ?? 'Client authentication failed.', {
        reason: 'invalid_client_credentials',
      });
    case 'idempotency_conflict':
      return problem(409, error, description ?? 'Idempotency key conflict.', { reason: 'key_payload_mismatch' });
    case 'not_admissible':
      return problem(422, error, description ?? 'Request is not admissible.', { reason: 'not_applicable' });
    case 'rate_limited':
      return problem(429, error, description ?? 'Too many requests.', { retry_after_ms: retryAfterMs ?? 1000 });
    case 'upstream_error':
      return problem(502, error, description ?? 'An upstream service returned an unexpected error.');
    case 'temporarily_unavailable':
      return problem(503, error, description ?? 'Service is temporarily unavailable.', {
        reason: 'federation_discovery_failed',
      });
  }
}

/**
 * YouHodler Business API: `POST /oauth/token`, JSON `{ client_id, client_secret, grant_type }`
 * and nothing else; the scope belongs to the service account. Tokens are RS256 JWTs.
 */
export const youHodlerDialect: EmulatorDialect<'youhodler'> = {
  name: 'youhodler',
  tokenPath: '/oauth/token',
  tokenFormat: 'jwt',
  expiresIn: 'seconds',

  checkTokenRequest(request, credentials) {
    if (mediaType(request) !== 'application/json') return { ok: false, reply: invalid('unsupported_content_type') };
    if (request.headers.authorization !== undefined)
      return { ok: false, reply: invalid('unexpected_authorization_header') };
    const body = jsonObject(request);
    if (body === undefined) return { ok: false, reply: invalid('malformed_json') };
    const shape = fieldProblem(body, ['client_id', 'client_secret', 'grant_type']);
    if (shape !== undefined) return { ok: false, reply: invalid(`${shape.kind}_field:${shape.field}`) };
    if (body.grant_type !== 'client_credentials') return { ok: false, reply: invalid('unsupported_grant_type') };
    if (!credentials.matches(body.client_id, body.client_secret))
      return { ok: false, reply: catalogue('unauthorized', {}) };
    return { ok: true, grant: { clientId: String(body.client_id) } };
  },

  tokenReply: (token) => ({
    status: 200,
    body: rfc6749TokenBody(token, 'Bearer', { issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' }),
  }),

  errorReply: (error, details) => catalogue(error, details),
  invalidTokenReply: () =>
    problem(401, 'unauthorized', 'Missing or invalid access token.', { reason: 'invalid_token' }),
  notFoundReply: () => problem(404, 'not_found', 'Resource not found.'),
  methodNotAllowedReply: () => problem(405, 'method_not_allowed', 'Method not allowed.'),

  clientOptions: (baseUrl, credentials) => ({ strategy: 'youhodler', baseUrl, ...credentials }),
};
