import type { EmulatorDialect } from './emulator-dialect.js';
import type { EmulatorErrorNames, ErrorDetails, RawReply } from './emulator.types.js';
import { fieldProblem, jsonObject, mediaType } from './request-checks.js';

type PalisadeError = EmulatorErrorNames['palisade'];

/** HTTP status, gRPC code and canonical message of each error, as grpc-gateway maps them. */
const STATUS: Record<PalisadeError, [http: number, grpc: number, message: string]> = {
  invalid_argument: [400, 3, 'invalid request'],
  unauthenticated: [401, 16, 'invalid client credentials'],
  permission_denied: [403, 7, 'permission denied'],
  not_found: [404, 5, 'not found'],
  resource_exhausted: [429, 8, 'rate limit exceeded'],
  internal: [500, 13, 'internal error'],
  unavailable: [503, 14, 'service unavailable'],
};

/** A `google.rpc.Status` body. */
function status(error: PalisadeError, message?: string, detail?: Record<string, unknown>): RawReply {
  const [http, code, canonical] = STATUS[error];
  const details = [
    detail ?? {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: error.toUpperCase(),
      domain: 'palisade.co',
    },
  ];
  return { status: http, body: { code, message: message ?? canonical, details } };
}

function badRequest(field: string, description: string): RawReply {
  return status('invalid_argument', `invalid request: ${description}`, {
    '@type': 'type.googleapis.com/google.rpc.BadRequest',
    fieldViolations: [{ field, description }],
  });
}

/**
 * Palisade: `POST /v2/credentials/oauth/token`, JSON `{ clientId, clientSecret }` exactly, no
 * auth header. Answers camelCase `{ accessToken, scope, expiresIn, tokenType }`; tokens are RS256
 * JWTs; errors are `google.rpc.Status`.
 */
export function palisadeDialect(grantedScope = 'balances:read'): EmulatorDialect<'palisade'> {
  return {
    name: 'palisade',
    tokenPath: '/v2/credentials/oauth/token',
    tokenFormat: 'jwt',
    expiresIn: 'seconds',

    checkTokenRequest(request, credentials) {
      if (mediaType(request) !== 'application/json')
        return { ok: false, reply: badRequest('body', 'content type must be application/json') };
      if (request.headers.authorization !== undefined) {
        return { ok: false, reply: badRequest('authorization', 'the token call takes no authorization header') };
      }
      const body = jsonObject(request);
      if (body === undefined) return { ok: false, reply: badRequest('body', 'malformed JSON') };
      const shape = fieldProblem(body, ['clientId', 'clientSecret']);
      if (shape !== undefined) return { ok: false, reply: badRequest(shape.field, shape.text) };
      if (!credentials.matches(body.clientId, body.clientSecret))
        return { ok: false, reply: status('unauthenticated') };
      return { ok: true, grant: { clientId: String(body.clientId), scope: grantedScope } };
    },

    tokenReply(token) {
      return {
        status: 200,
        body: {
          accessToken: token.accessToken,
          scope: token.scope,
          ...(token.expiresIn === undefined ? {} : { expiresIn: token.expiresIn }),
          tokenType: 'Bearer',
        },
      };
    },

    jwtClaims: (grant) => ({
      'https://palisade.co': { organizationId: 'emulated-organization', deviceId: null, userId: null },
      azp: grant.clientId,
      gty: 'client-credentials',
      permissions: [grantedScope],
    }),

    errorReply: (error, details: ErrorDetails) => status(error, details.description),
    invalidTokenReply: () => status('unauthenticated', 'invalid or expired access token'),
    notFoundReply: () => status('not_found', 'Not Found'),
    methodNotAllowedReply: () => ({ status: 405, body: { code: 12, message: 'Method Not Allowed', details: [] } }),

    clientOptions: (baseUrl, credentials) => ({ strategy: 'palisade', baseUrl, ...credentials }),
  };
}
