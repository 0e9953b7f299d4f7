import { asRecord, asString } from '../common/values.js';
import type { BaseClientOptions, ClientSecret } from '../interfaces/client-options.interface.js';
import { readRfc6749Error, readSnakeOrCamelToken } from './custom-strategy-helpers.js';
import { jsonPost } from './dialect-helpers.js';
import { describe } from './provider-error-fields.js';
import type {
  ProviderError,
  RawToken,
  TokenHttpRequest,
  TokenHttpResponse,
  TokenRequestContext,
  TokenStrategy,
} from './token-strategy.interface.js';

export interface PalisadeClientOptions extends BaseClientOptions {
  strategy: 'palisade';
  clientSecret: ClientSecret;
}

/** The reason a `google.rpc.ErrorInfo` detail gives, if any. */
function errorInfoReason(details: unknown): unknown {
  if (!Array.isArray(details)) return undefined;
  return details.map(asRecord).find((d) => typeof d?.reason === 'string')?.reason;
}

/**
 * Palisade (Ripple Wallet-as-a-Service): `POST /v2/credentials/oauth/token` with a camelCase JSON
 * body `{ clientId, clientSecret }`: no grant_type, no scope, no auth header (as the official SDK).
 * Errors are `google.rpc.Status`: the gRPC `code` (16 = UNAUTHENTICATED) is kept as `providerCode`;
 * the library code comes from the HTTP status, which is what the gateway derived it from.
 */
export class PalisadeStrategy implements TokenStrategy<PalisadeClientOptions> {
  readonly tokenPath = '/v2/credentials/oauth/token';
  readonly defaultBaseUrl = 'https://api.palisade.co';
  readonly sendsScope = false;

  buildRequest({ tokenUrl, clientId, clientSecret }: TokenRequestContext<PalisadeClientOptions>): TokenHttpRequest {
    return jsonPost(tokenUrl, { clientId, clientSecret });
  }

  readToken(response: TokenHttpResponse): RawToken {
    return readSnakeOrCamelToken(response);
  }

  readError(response: TokenHttpResponse): ProviderError {
    const body = asRecord(response.json);
    const grpcCode = asString(body?.code);
    // An Auth0-style RFC body may come from the identity layer behind the gateway.
    if (grpcCode === undefined) return readRfc6749Error(response);
    return { providerCode: grpcCode, description: describe(body?.message, errorInfoReason(body?.details)) };
  }
}
