import { asRecord, asString } from '../common/values.js';
import type { OAuthErrorCode } from '../errors/oauth-error-code.js';
import type { BaseClientOptions, ClientSecret } from '../interfaces/client-options.interface.js';
import { readRfc6749Error, readSnakeOrCamelToken } from './custom-strategy-helpers.js';
import { jsonPost } from './dialect-helpers.js';
import { asMilliseconds, describe, rfcCodeOf } from './provider-error-fields.js';
import type {
  ProviderError,
  RawToken,
  TokenHttpRequest,
  TokenHttpResponse,
  TokenRequestContext,
  TokenStrategy,
} from './token-strategy.interface.js';

export interface YouHodlerClientOptions extends BaseClientOptions {
  strategy: 'youhodler';
  clientSecret: ClientSecret;
}

/** YouHodler codes that are also library codes; the rest stay provider codes only. */
const LIBRARY_CODES: Record<string, OAuthErrorCode> = {
  rate_limited: 'rate_limited',
  temporarily_unavailable: 'temporarily_unavailable',
};

/**
 * YouHodler Business API: `POST /oauth/token` with a JSON body in snake_case. The scope belongs
 * to the service account, so none is sent. No `Idempotency-Key` is sent either: the token call is
 * safe to repeat, and a reused key with a new payload would earn a 409.
 * Errors are `{ code, message, details }`; a 429 carries `details.retry_after_ms`.
 */
export class YouHodlerStrategy implements TokenStrategy<YouHodlerClientOptions> {
  readonly tokenPath = '/oauth/token';
  readonly defaultBaseUrl = 'https://business-api.youhodler.com';
  readonly sendsScope = false;

  buildRequest({ tokenUrl, clientId, clientSecret }: TokenRequestContext<YouHodlerClientOptions>): TokenHttpRequest {
    return jsonPost(tokenUrl, { client_id: clientId, client_secret: clientSecret, grant_type: 'client_credentials' });
  }

  readToken(response: TokenHttpResponse): RawToken {
    // `issued_token_type` is always the access-token URN here; nothing in it changes the token.
    return readSnakeOrCamelToken(response);
  }

  readError(response: TokenHttpResponse): ProviderError {
    const body = asRecord(response.json);
    const providerCode = asString(body?.code);
    if (providerCode === undefined) return readRfc6749Error(response);
    const details = asRecord(body?.details);
    return {
      code: rfcCodeOf(providerCode) ?? LIBRARY_CODES[providerCode],
      providerCode,
      description: describe(body?.message, details?.reason),
      retryAfterMs: asMilliseconds(details?.retry_after_ms),
    };
  }
}
