import { type EmulatorDialect, rfc6749TokenBody } from './emulator-dialect.js';
import type {
  AlternativePaymentsEmulatorOptions,
  EmulatorErrorNames,
  EmulatorRequest,
  ErrorDetails,
  RawReply,
} from './emulator.types.js';
import { mediaType, readBasic } from './request-checks.js';

type AlternativePaymentsError = EmulatorErrorNames['alternative-payments'];

/** Bodies are objects of strings; only the 403 and the 429 are documented by the provider. */
const ERRORS: Record<AlternativePaymentsError, [status: number, message: string]> = {
  invalid_credentials: [403, 'Invalid credentials'],
  bad_request: [400, 'Invalid request'],
  rate_limited: [429, 'Rate limit exceeded: 5 requests per second per key'],
  server_error: [500, 'Internal server error'],
  service_unavailable: [503, 'Service unavailable'],
};

function problem(error: AlternativePaymentsError, { description, retryAfterSeconds }: ErrorDetails = {}): RawReply {
  const [status, message] = ERRORS[error];
  const retryAfter = retryAfterSeconds ?? (error === 'rate_limited' ? 1 : undefined);
  return {
    status,
    body: { error, message: description ?? message },
    ...(retryAfter === undefined ? {} : { headers: { 'retry-after': String(retryAfter) } }),
  };
}

/**
 * Alternative Payments: `POST /oauth/token`, Basic credentials, form `grant_type=client_credentials`
 * exactly. Tokens are opaque, `token_type` a lowercase `bearer`. Bad credentials get a 403.
 */
export function alternativePaymentsDialect(
  options: AlternativePaymentsEmulatorOptions,
): EmulatorDialect<'alternative-payments'> {
  return {
    name: 'alternative-payments',
    tokenPath: '/oauth/token',
    tokenFormat: 'opaque',
    expiresIn: 'seconds',

    checkTokenRequest(request, credentials) {
      const basic = readBasic(request, options.basicEncoding);
      if (basic === undefined || !credentials.matches(basic.id, basic.secret))
        return { ok: false, reply: problem('invalid_credentials') };
      if (mediaType(request) !== 'application/x-www-form-urlencoded') {
        return {
          ok: false,
          reply: problem('bad_request', { description: 'Content-Type must be application/x-www-form-urlencoded' }),
        };
      }
      const params = [...new URLSearchParams(request.body)];
      const extra = params.find(([name]) => name !== 'grant_type');
      if (extra !== undefined)
        return { ok: false, reply: problem('bad_request', { description: `Unexpected parameter ${extra[0]}` }) };
      if (params.length !== 1 || request.form?.grant_type !== 'client_credentials') {
        return { ok: false, reply: problem('bad_request', { description: "grant_type must be 'client_credentials'" }) };
      }
      return { ok: true, grant: { clientId: basic.id } };
    },

    tokenReply: (token) => ({ status: 200, body: rfc6749TokenBody(token, 'bearer') }),

    errorReply: (error, details) => problem(error, details),
    invalidTokenReply: () => ({
      status: 401,
      body: { error: 'unauthorized', message: 'Invalid or expired access token' },
    }),
    notFoundReply: () => ({ status: 404, body: { error: 'not_found', message: 'Not found' } }),
    methodNotAllowedReply: () => ({
      status: 405,
      body: { error: 'method_not_allowed', message: 'Method not allowed' },
    }),

    clientOptions: (baseUrl, credentials) => ({ strategy: 'alternative-payments', baseUrl, ...credentials }),
  };
}

/**
 * The provider's rate limit: more than `perSecond` token requests from one client id within a
 * second (of the emulator's clock) answer 429 with `Retry-After: 1`.
 */
export function alternativePaymentsRateLimit(options: AlternativePaymentsEmulatorOptions) {
  const perSecond = options.rateLimitPerSecond ?? 5;
  const seen = new Map<string, number[]>();
  return (request: EmulatorRequest, now: number): RawReply | undefined => {
    if (perSecond === false) return undefined;
    const id = readBasic(request, options.basicEncoding)?.id;
    if (id === undefined) return undefined;
    const recent = (seen.get(id) ?? []).filter((at) => now - at < 1000);
    recent.push(now);
    seen.set(id, recent);
    return recent.length > perSecond ? problem('rate_limited') : undefined;
  };
}
