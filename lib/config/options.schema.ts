/** class-validator schemas of the options; messages are phrased to follow `option "<field>"`. */
import {
  IsArray,
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import { isHttpUrl } from '../common/url.js';

const IsHttpUrl = (options?: ValidationOptions) =>
  ValidateBy({ name: 'isHttpUrl', validator: { validate: isHttpUrl } }, options);

const isScopeToken = (s: unknown) => typeof s === 'string' && s.length > 0 && !/\s/.test(s);
const IsScope = (options?: ValidationOptions) =>
  ValidateBy(
    {
      name: 'isScope',
      validator: {
        validate: (v: unknown) =>
          (typeof v === 'string' && v.trim().length > 0) || (Array.isArray(v) && v.every(isScopeToken)),
      },
    },
    options,
  );

const URL_MESSAGE = { message: 'must be an absolute http(s) URL' };
const NON_EMPTY = { message: 'must be a non-empty string' };

/** Module-wide defaults and their per-client overrides. */
export class PolicySchema {
  @IsOptional()
  @IsInt({ message: 'must be a whole number of seconds' })
  @Min(0, { message: 'must not be negative' })
  skewSeconds?: number;

  @IsOptional()
  @IsInt({ message: 'must be a whole number of seconds' })
  @Min(1, { message: 'must be at least 1' })
  defaultTtlSeconds?: number;

  @IsOptional()
  @IsInt({ message: 'must be a whole number of milliseconds' })
  @Min(1, { message: 'must be at least 1' })
  timeoutMs?: number;

  @IsOptional()
  @IsObject({ message: 'must be an object' })
  retry?: object;

  @IsOptional()
  @IsObject({ message: 'must be an object of cert, key, ca, passphrase, pfx' })
  tls?: object;

  @IsOptional()
  @IsHttpUrl(URL_MESSAGE)
  proxy?: string;

  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  proxyFromEnv?: boolean;
}

const isPem = (value: unknown) => typeof value === 'string' || Buffer.isBuffer(value);
const IsPem = (options?: ValidationOptions) =>
  ValidateBy({ name: 'isPem', validator: { validate: (v: unknown) => isPem(v) } }, options);
const PEM = { message: 'must be a PEM string or a Buffer' };

/** `tls` of the module or a client; only field names and rules are reported, never the key material. */
export class TlsSchema {
  @IsOptional()
  @IsPem(PEM)
  cert?: unknown;

  @IsOptional()
  @IsPem(PEM)
  key?: unknown;

  @IsOptional()
  @ValidateBy(
    { name: 'isCa', validator: { validate: (v: unknown) => isPem(v) || (Array.isArray(v) && v.every(isPem)) } },
    { message: 'must be a PEM string, a Buffer or an array of them' },
  )
  ca?: unknown;

  @IsOptional()
  @IsString({ message: 'must be a string' })
  passphrase?: unknown;

  @IsOptional()
  @IsPem(PEM)
  pfx?: unknown;
}

export class RetrySchema {
  @IsOptional()
  @IsInt({ message: 'must be a whole number' })
  @Min(1, { message: 'must be at least 1' })
  @Max(10, { message: 'must be at most 10' })
  maxAttempts?: number;

  @IsOptional()
  @IsInt({ message: 'must be a whole number of milliseconds' })
  @Min(0, { message: 'must not be negative' })
  baseDelayMs?: number;

  @IsOptional()
  @IsInt({ message: 'must be a whole number of milliseconds' })
  @Min(0, { message: 'must not be negative' })
  maxDelayMs?: number;

  @IsOptional()
  @IsInt({ message: 'must be a whole number of milliseconds' })
  @Min(0, { message: 'must not be negative' })
  maxRetryAfterMs?: number;
}

const isIssuer = (value: unknown) => isHttpUrl(value) && !/[?#]/.test(value as string);

/**
 * Checked where the strategy is known: a client authenticated by a key or a certificate needs none.
 * A function is a credential provider (a secret manager), called for each token request.
 */
export class ClientSecretSchema {
  @ValidateBy(
    {
      name: 'isSecret',
      validator: { validate: (v: unknown) => (typeof v === 'string' && v.length > 0) || typeof v === 'function' },
    },
    { message: 'must be a non-empty string or a function returning one' },
  )
  clientSecret!: unknown;
}

/**
 * Fields every client has; `strategy` is checked where it is resolved, the strategy's own fields
 * by the strategy, `clientSecret` once the strategy says whether it is needed.
 */
export class ClientSchema extends PolicySchema {
  @IsString(NON_EMPTY)
  @IsNotEmpty(NON_EMPTY)
  clientId!: string;

  @IsOptional()
  @IsHttpUrl(URL_MESSAGE)
  baseUrl?: string;

  @IsOptional()
  @IsHttpUrl(URL_MESSAGE)
  tokenUrl?: string;

  @IsOptional()
  @ValidateBy(
    { name: 'isIssuer', validator: { validate: isIssuer } },
    { message: 'must be an absolute http(s) URL without query or fragment (RFC 8414 §2)' },
  )
  issuer?: string;

  @IsOptional()
  @IsScope({ message: 'must be a string or an array of scope tokens without spaces' })
  scope?: string | string[];

  @IsOptional()
  @IsArray({ message: 'must be an array of URL prefixes' })
  @IsHttpUrl({ each: true, ...URL_MESSAGE })
  attachTo?: string[];
}

/** Options only the module as a whole has. */
export class ModuleSchema extends PolicySchema {
  @IsOptional()
  @IsInt({ message: 'must be a whole number of tokens' })
  @Min(1, { message: 'must be at least 1' })
  maxCachedTokens?: number;

  @IsOptional()
  @IsBoolean({ message: 'must be true or false' })
  telemetry?: boolean;

  @IsOptional()
  @ValidateBy(
    {
      name: 'isWarmUp',
      validator: {
        validate: (v: unknown) => typeof v === 'boolean' || (Array.isArray(v) && v.every((n) => typeof n === 'string')),
      },
    },
    { message: 'must be true, false or an array of client names' },
  )
  warmUp?: boolean | string[];
}
