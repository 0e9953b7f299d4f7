import { asRecord, asString } from '../common/values.js';
import type { BaseClientOptions, BasicEncoding, ClientSecret } from '../interfaces/client-options.interface.js';
import { basicAuthorization, readRfc6749Error, readSnakeOrCamelToken } from './custom-strategy-helpers.js';
import { BasicEncodingSchema, rawBasicIssues } from './dialect-helpers.js';
import { describe } from './provider-error-fields.js';
import type {
  ConfigIssue,
  ProviderError,
  RawToken,
  TokenHttpRequest,
  TokenHttpResponse,
  TokenRequestContext,
  TokenStrategy,
} from './token-strategy.interface.js';

export interface AlternativePaymentsClientOptions extends BaseClientOptions {
  strategy: 'alternative-payments';
  clientSecret: ClientSecret;
  basicEncoding?: BasicEncoding;
}

/**
 * Alternative Payments: `POST /oauth/token`, `Authorization: Basic base64(id:secret)`, form body
 * `grant_type=client_credentials` and nothing else (no scope). Tokens are opaque; `token_type` is
 * a lowercase `bearer`, kept as sent. Bad credentials answer 403 with an object of strings;
 * more than 5 requests/s per key answer 429.
 */
export class AlternativePaymentsStrategy implements TokenStrategy<AlternativePaymentsClientOptions> {
  readonly tokenPath = '/oauth/token';
  readonly defaultBaseUrl = 'https://public-api.alternativepayments.io';
  readonly sendsScope = false;
  readonly optionsSchema: new () => object = BasicEncodingSchema;

  validateOptions(options: AlternativePaymentsClientOptions): ConfigIssue[] {
    return rawBasicIssues(options, true);
  }

  buildRequest({
    options,
    tokenUrl,
    clientId,
    clientSecret,
  }: TokenRequestContext<AlternativePaymentsClientOptions>): TokenHttpRequest {
    return {
      method: 'POST',
      url: tokenUrl,
      headers: {
        authorization: basicAuthorization(clientId, clientSecret, options.basicEncoding),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: 'grant_type=client_credentials',
    };
  }

  readToken(response: TokenHttpResponse): RawToken {
    return readSnakeOrCamelToken(response);
  }

  readError(response: TokenHttpResponse): ProviderError {
    const rfc = readRfc6749Error(response);
    if (rfc.code !== undefined) return rfc;
    // Not RFC 6749: an object of strings whose keys vary; keep what reads as a message.
    const body = asRecord(response.json);
    if (body === undefined) return {};
    const error = asString(body.error);
    const errorIsCode = error !== undefined && /^[a-z0-9_.-]+$/i.test(error);
    return {
      providerCode: asString(body.code) ?? (errorIsCode ? error : undefined),
      description: describe(body.message ?? body.error_description ?? body.detail ?? body.error, body.reason),
    };
  }
}
