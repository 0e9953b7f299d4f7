import { IsIn, IsObject, IsOptional, IsString, ValidateBy } from 'class-validator';
import type { BaseClientOptions, BasicEncoding } from '../interfaces/client-options.interface.js';
import { basicAuthorization, readRfc6749Error, readSnakeOrCamelToken } from './custom-strategy-helpers.js';
import { BasicEncodingSchema, rawBasicIssues, scopeString } from './dialect-helpers.js';
import type {
  ConfigIssue,
  ProviderError,
  RawToken,
  TokenHttpRequest,
  TokenHttpResponse,
  TokenRequestContext,
  TokenStrategy,
} from './token-strategy.interface.js';

export interface OAuth2ClientOptions extends BaseClientOptions {
  strategy: 'oauth2';
  authMethod?: 'client_secret_basic' | 'client_secret_post';
  basicEncoding?: BasicEncoding;
  audience?: string;
  resource?: string | string[];
  extraParams?: Record<string, string>;
}

const isStringOrStrings = (v: unknown) =>
  typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string'));

class OAuth2OptionsSchema extends BasicEncodingSchema {
  @IsOptional()
  @IsIn(['client_secret_basic', 'client_secret_post'], {
    message: "must be 'client_secret_basic' or 'client_secret_post'",
  })
  authMethod?: string;

  @IsOptional()
  @IsString({ message: 'must be a string' })
  audience?: string;

  @IsOptional()
  @ValidateBy(
    { name: 'isResource', validator: { validate: isStringOrStrings } },
    { message: 'must be a URI or an array of URIs' },
  )
  resource?: string | string[];

  @IsOptional()
  @IsObject({ message: 'must be an object of string values' })
  @ValidateBy(
    {
      name: 'stringValues',
      validator: { validate: (v: object) => Object.values(v ?? {}).every((x) => typeof x === 'string') },
    },
    { message: 'must be an object of string values' },
  )
  extraParams?: Record<string, string>;
}

/** Set by the library from other options: an `extraParams` entry of these names is never sent. */
const RESERVED_PARAMS = new Set([
  'grant_type',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
]);

/** `extraParams` minus what the library sets itself. */
function sendableExtraParams(options: OAuth2ClientOptions): Record<string, string> {
  return Object.fromEntries(Object.entries(options.extraParams ?? {}).filter(([name]) => !RESERVED_PARAMS.has(name)));
}

/** Plain RFC 6749 §4.4: form body, client_secret_basic (default) or client_secret_post. */
export class OAuth2Strategy implements TokenStrategy<OAuth2ClientOptions> {
  readonly tokenPath = '/oauth/token';
  readonly sendsScope = true;
  readonly optionsSchema: new () => object = OAuth2OptionsSchema;

  validateOptions(options: OAuth2ClientOptions): ConfigIssue[] {
    return rawBasicIssues(options, (options.authMethod ?? 'client_secret_basic') === 'client_secret_basic');
  }

  warnings(options: OAuth2ClientOptions): string[] {
    const extra = Object.keys(options.extraParams ?? {});
    const overridden = extra.filter(
      (name) => (name === 'audience' || name === 'resource') && options[name] !== undefined,
    );
    const ignored = extra.filter((name) => RESERVED_PARAMS.has(name));
    return [
      ...overridden.map((name) => `option "extraParams.${name}" is not sent: option "${name}" is set and wins.`),
      ...ignored.map((name) => `option "extraParams.${name}" is not sent: the library sets ${name} itself.`),
    ];
  }

  cacheKeyParams(options: OAuth2ClientOptions) {
    return [options.audience, options.resource, options.extraParams];
  }

  buildRequest({
    options,
    tokenUrl,
    clientId,
    clientSecret,
    scope,
  }: TokenRequestContext<OAuth2ClientOptions>): TokenHttpRequest {
    const post = options.authMethod === 'client_secret_post';
    // extraParams first; a dedicated option replaces the entry of the same name, an unset one keeps it.
    const form = new URLSearchParams({ grant_type: 'client_credentials', ...sendableExtraParams(options) });
    const scopes = scopeString(scope);
    if (scopes !== undefined) form.set('scope', scopes);
    if (options.audience !== undefined) form.set('audience', options.audience);
    if (options.resource !== undefined) form.delete('resource');
    for (const resource of [options.resource ?? []].flat()) form.append('resource', resource);
    if (post) {
      form.append('client_id', clientId);
      form.append('client_secret', clientSecret);
    }
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (!post) headers.authorization = basicAuthorization(clientId, clientSecret, options.basicEncoding);
    return { method: 'POST', url: tokenUrl, headers, body: form.toString() };
  }

  readToken(response: TokenHttpResponse): RawToken {
    return readSnakeOrCamelToken(response);
  }

  readError(response: TokenHttpResponse): ProviderError {
    return readRfc6749Error(response);
  }
}
