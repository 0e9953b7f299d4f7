/**
 * Whether an answer asks for a (new) DPoP nonce: a token endpoint's `400 use_dpop_nonce`
 * (RFC 9449 §8) or an API's `401` with `WWW-Authenticate: DPoP error="use_dpop_nonce"` (§9).
 */
export function apiWantsNonce(status: number, wwwAuthenticate: string | null | undefined): boolean {
  return status === 401 && typeof wwwAuthenticate === 'string' && NONCE_CHALLENGE.test(wwwAuthenticate);
}

const NONCE_CHALLENGE = /(?:^|,)\s*DPoP\b[^]*?\berror\s*=\s*"?use_dpop_nonce"?/i;

export function tokenEndpointWantsNonce(status: number, json: unknown): boolean {
  return (
    status === 400 &&
    typeof json === 'object' &&
    json !== null &&
    (json as { error?: unknown }).error === 'use_dpop_nonce'
  );
}

/** A token whose `token_type` is `DPoP` (any case) goes as `Authorization: DPoP`, with a proof. */
export function isDpopBound(tokenType: string): boolean {
  return tokenType.length === 4 && tokenType.toLowerCase() === 'dpop';
}
