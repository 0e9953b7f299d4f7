/** Small building blocks shared by the dialects. */
import type { BasicEncoding } from '../interfaces/client-options.interface.js';
import { isRfc6749ErrorCode } from '../errors/oauth-error-code.js';
import type { ProviderError, TokenHttpRequest, TokenHttpResponse } from './token-strategy.interface.js';

/** application/x-www-form-urlencoded encoding of one value (space as `+`), per RFC 6749 Appendix B. */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/** `Basic base64(id:secret)`; `rfc6749` form-encodes both first (RFC 6749 §2.3.1). */
export function basicAuthorization(clientId: string, clientSecret: string, encoding: BasicEncoding = 'rfc6749'): string {
  const pair = encoding === 'raw' ? `${clientId}:${clientSecret}` : `${formEncode(clientId)}:${formEncode(clientSecret)}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
}

/** `base` + `path` with exactly one slash between them; a path prefix in `base` (`/sandbox`) is kept. */
export function joinUrl(base: string, path: string): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  return url.toString();
}

/** A POST of a JSON body, as most non-RFC dialects want their token request. */
export function jsonPost(url: string, body: Record<string, unknown>): TokenHttpRequest {
  return {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  };
}

export function formBody(params: Record<string, string | undefined>): string {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) form.append(name, value);
  return form.toString();
}

export function scopeString(scope: readonly string[]): string | undefined {
  return scope.length > 0 ? scope.join(' ') : undefined;
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function asString(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** RFC 6749 §5.2 `{ error, error_description }`; an unknown `error` is kept as the provider's code. */
export function readRfc6749Error(response: TokenHttpResponse): ProviderError {
  const body = asRecord(response.json);
  const error = asString(body?.error);
  if (error === undefined) return {};
  return {
    code: isRfc6749ErrorCode(error) ? error : undefined,
    providerCode: isRfc6749ErrorCode(error) ? undefined : error,
    description: asString(body?.error_description),
  };
}

/** RFC 6749 §5.1 fields, accepting the camelCase spelling some providers use. */
export function readSnakeOrCamelToken(response: TokenHttpResponse) {
  const body = asRecord(response.json) ?? {};
  return {
    accessToken: body.access_token ?? body.accessToken,
    tokenType: body.token_type ?? body.tokenType,
    expiresIn: body.expires_in ?? body.expiresIn,
    scope: body.scope,
  };
}
