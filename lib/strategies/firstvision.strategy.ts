import { IsIn, IsOptional } from 'class-validator';
import { asRecord, asString } from '../common/values.js';
import type { BaseClientOptions, BasicEncoding, ClientSecret } from '../interfaces/client-options.interface.js';
import { basicAuthorization, readRfc6749Error, readSnakeOrCamelToken } from './custom-strategy-helpers.js';
import { BasicEncodingSchema, jsonPost, rawBasicIssues } from './dialect-helpers.js';
import type {
  ConfigIssue,
  ProviderError,
  RawToken,
  TokenHttpRequest,
  TokenHttpResponse,
  TokenRequestContext,
  TokenStrategy,
} from './token-strategy.interface.js';

export interface FirstVisionClientOptions extends BaseClientOptions {
  strategy: 'firstvision';
  clientSecret: ClientSecret;
  variant?: 'basic-query' | 'json-body';
  basicEncoding?: BasicEncoding;
}

class FirstVisionOptionsSchema extends BasicEncodingSchema {
  @IsOptional()
  @IsIn(['basic-query', 'json-body'], { message: "must be 'basic-query' or 'json-body'" })
  variant?: string;
}

/** The first problem object of FirstVision's error array (an object alone is accepted too). */
function firstProblem(json: unknown): Record<string, unknown> | undefined {
  if (Array.isArray(json)) return asRecord(json[0]);
  const body = asRecord(json);
  return Array.isArray(body?.errors) ? asRecord(body.errors[0]) : body;
}

function problemDescription(problem: Record<string, unknown>): string | undefined {
  const params = problem['invalid-params'];
  const listed = Array.isArray(params)
    ? params.map((p) => asString(p) ?? asString(asRecord(p)?.reason)).filter(Boolean)
    : [];
  return listed.length > 0 ? listed.join('; ') : (asString(problem.detail) ?? asString(problem.title));
}

/**
 * Fiserv FirstVision APAC: `POST /v1/api/oauth/token` on a tenant-specific host (no default).
 * `basic-query` (the seed's form): Basic header, `grant_type` and the space-separated `scope` in
 * the query, and an EMPTY body. `json-body` (later revisions): everything in a JSON body.
 * A scope is required. `expires_in` may be an absolute epoch or a string: the library reads both
 * and caps the result with the JWT's `exp`. Errors are a JSON array; `errorCode` (`240101` =
 * invalid credentials or scope) becomes `providerCode`.
 */
export class FirstVisionStrategy implements TokenStrategy<FirstVisionClientOptions> {
  readonly tokenPath = '/v1/api/oauth/token';
  readonly sendsScope = true;
  readonly optionsSchema: new () => object = FirstVisionOptionsSchema;

  validateOptions(options: FirstVisionClientOptions): ConfigIssue[] {
    const issues = rawBasicIssues(options, (options.variant ?? 'basic-query') === 'basic-query');
    const scope = options.scope;
    if (scope === undefined || (Array.isArray(scope) && scope.length === 0)) {
      issues.unshift({
        field: 'scope',
        problem: 'is required: the FirstVision token endpoint issues tokens for a scope only',
      });
    }
    return issues;
  }

  cacheKeyParams(options: FirstVisionClientOptions) {
    return [options.variant ?? 'basic-query'];
  }

  buildRequest({
    options,
    tokenUrl,
    clientId,
    clientSecret,
    scope,
  }: TokenRequestContext<FirstVisionClientOptions>): TokenHttpRequest {
    const scopes = scope.join(' ');
    if (options.variant === 'json-body') {
      return jsonPost(tokenUrl, {
        grant_type: 'client_credentials',
        scope: scopes,
        client_id: clientId,
        client_secret: clientSecret,
      });
    }
    // %20 rather than '+': every server decodes %20 in a query as a space.
    const query = `grant_type=client_credentials&scope=${encodeURIComponent(scopes)}`;
    const url = new URL(tokenUrl);
    url.search = url.search.length > 1 ? `${url.search.slice(1)}&${query}` : query;
    return {
      method: 'POST',
      url: url.toString(),
      headers: {
        authorization: basicAuthorization(clientId, clientSecret, options.basicEncoding),
        accept: 'application/json',
      },
    };
  }

  readToken(response: TokenHttpResponse): RawToken {
    return readSnakeOrCamelToken(response);
  }

  readError(response: TokenHttpResponse): ProviderError {
    const problem = firstProblem(response.json);
    const errorCode = asString(problem?.errorCode);
    if (problem === undefined || errorCode === undefined) return readRfc6749Error(response);
    return { providerCode: errorCode, description: problemDescription(problem) };
  }
}
