/**
 * What a custom strategy may build on: exported from the package as they are here. The rest of
 * `strategies/` is internal and may change in any release.
 */
import type { BasicEncoding } from '../interfaces/client-options.interface.js';
import { formEncode } from '../common/form-encode.js';
import { asRecord, asString } from '../common/values.js';
import { isRfc6749ErrorCode } from '../errors/oauth-error-code.js';
import type { ProviderError, RawToken, TokenHttpResponse } from './token-strategy.interface.js';

export { formEncode };

/** `Basic base64(id:secret)`; `rfc6749` form-encodes both first (RFC 6749 §2.3.1). */
export function basicAuthorization(
  clientId: string,
  clientSecret: string,
  encoding: BasicEncoding = 'rfc6749',
): string {
  const pair =
    encoding === 'raw' ? `${clientId}:${clientSecret}` : `${formEncode(clientId)}:${formEncode(clientSecret)}`;
  return `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
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
export function readSnakeOrCamelToken(response: TokenHttpResponse): RawToken {
  const body = asRecord(response.json) ?? {};
  return {
    accessToken: body.access_token ?? body.accessToken,
    tokenType: body.token_type ?? body.tokenType,
    expiresIn: body.expires_in ?? body.expiresIn,
    scope: body.scope,
  };
}
