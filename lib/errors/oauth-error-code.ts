/** RFC 6749 §5.2 codes, and the library's own for what RFC 6749 does not name. */
export const RFC6749_ERROR_CODES = [
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
] as const;

export type Rfc6749ErrorCode = (typeof RFC6749_ERROR_CODES)[number];

export type OAuthErrorCode =
  | Rfc6749ErrorCode
  | 'rate_limited'
  | 'temporarily_unavailable'
  | 'server_error'
  | 'invalid_response'
  | 'network_error'
  | 'timeout';

export function isRfc6749ErrorCode(value: unknown): value is Rfc6749ErrorCode {
  return typeof value === 'string' && (RFC6749_ERROR_CODES as readonly string[]).includes(value);
}
