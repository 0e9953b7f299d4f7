import { IsObject, IsOptional, IsString, ValidateBy } from 'class-validator';
import type { ClientAuthMethod, ClientAuthOptions } from '../client-auth/client-auth.options.js';
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

export interface OAuth2ClientOptions extends BaseClientOptions, ClientAuthOptions {
  strategy: 'oauth2';
  /**
   * Instead of `tokenUrl` / `baseUrl`: the token endpoint comes from this issuer's metadata
   * (RFC 8414, then OpenID Connect Discovery), fetched on the first token request.
   */
  issuer?: string;
  basicEncoding?: BasicEncoding;
  audience?: string;
  resource?: string | string[];
  extraParams?: Record<string, string>;
}

const isStringOrStrings = (v: unknown) =>
  typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string'));

class OAuth2OptionsSchema extends BasicEncodingSchema {
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

const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * Plain RFC 6749 §4.4, a form body, the client authenticated by `client_secret_basic` (default),
 * `client_secret_post`, a JWT assertion (RFC 7523) or its TLS certificate (RFC 8705).
 */
export class OAuth2Strategy implements TokenStrategy<OAuth2ClientOptions> {
  readonly tokenPath = '/oauth/token';
  readonly sendsScope = true;
  readonly optionsSchema: new () => object = OAuth2OptionsSchema;
  readonly authMethods: readonly ClientAuthMethod[] = [
    'client_secret_basic',
    'client_secret_post',
    'client_secret_jwt',
    'private_key_jwt',
    'tls_client_auth',
    'self_signed_tls_client_auth',
  ];

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

  buildRequest(context: TokenRequestContext<OAuth2ClientOptions>): TokenHttpRequest {
    const { options, tokenUrl, clientId, clientSecret, scope } = context;
    const method = options.authMethod ?? 'client_secret_basic';
    // extraParams first; a dedicated option replaces the entry of the same name, an unset one keeps it.
    const form = new URLSearchParams({ grant_type: 'client_credentials', ...sendableExtraParams(options) });
    const scopes = scopeString(scope);
    if (scopes !== undefined) form.set('scope', scopes);
    if (options.audience !== undefined) form.set('audience', options.audience);
    if (options.resource !== undefined) form.delete('resource');
    for (const resource of [options.resource ?? []].flat()) form.append('resource', resource);
    if (method !== 'client_secret_basic') form.append('client_id', clientId);
    if (method === 'client_secret_post') form.append('client_secret', clientSecret);
    if (method === 'client_secret_jwt' || method === 'private_key_jwt') {
      if (context.clientAssertion === undefined) throw new Error(`authMethod ${method} needs a client assertion`);
      form.append('client_assertion_type', CLIENT_ASSERTION_TYPE);
      form.append('client_assertion', context.clientAssertion);
    }
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (method === 'client_secret_basic') {
      headers.authorization = basicAuthorization(clientId, clientSecret, options.basicEncoding);
    }
    return { method: 'POST', url: tokenUrl, headers, body: form.toString() };
  }

  readToken(response: TokenHttpResponse): RawToken {
    return readSnakeOrCamelToken(response);
  }

  readError(response: TokenHttpResponse): ProviderError {
    return readRfc6749Error(response);
  }
}
