/** class-validator schemas of the client-auth options a schema can check; messages follow `option "<field>"`. */
import { IsIn, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, Min, ValidateBy } from 'class-validator';
import type { ClientAssertionAlgorithm } from './client-auth.options.js';
import { RESERVED_CLAIMS } from './client-assertion.js';

export const ASSERTION_ALGORITHMS: readonly ClientAssertionAlgorithm[] = [
  'RS256',
  'PS256',
  'ES256',
  'ES384',
  'EdDSA',
  'HS256',
];

const NON_EMPTY = { message: 'must be a non-empty string' };

export class ClientAuthSchema {
  @IsOptional()
  @IsString(NON_EMPTY)
  @IsNotEmpty(NON_EMPTY)
  keyId?: string;

  @IsOptional()
  @IsString({ message: 'must be a string' })
  privateKeyPassphrase?: string;

  @IsOptional()
  @IsIn(ASSERTION_ALGORITHMS, { message: `must be one of ${ASSERTION_ALGORITHMS.join(', ')}` })
  algorithm?: string;

  @IsOptional()
  @IsObject({ message: 'must be an object of audience, lifetimeSeconds, claims' })
  assertion?: object;
}

const isAudience = (v: unknown) =>
  (typeof v === 'string' && v.length > 0) ||
  (Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s.length > 0));

export class AssertionSchema {
  @IsOptional()
  @ValidateBy(
    { name: 'isAudience', validator: { validate: isAudience } },
    { message: 'must be a non-empty string or a non-empty array of them' },
  )
  audience?: unknown;

  @IsOptional()
  @IsInt({ message: 'must be a whole number of seconds' })
  @Min(1, { message: 'must be at least 1' })
  lifetimeSeconds?: number;

  @IsOptional()
  @IsObject({ message: 'must be an object' })
  @ValidateBy(
    {
      name: 'noReservedClaims',
      validator: { validate: (v: object) => !RESERVED_CLAIMS.some((name) => Object.hasOwn(v ?? {}, name)) },
    },
    { message: `must not set ${RESERVED_CLAIMS.join(', ')}: the library sets them` },
  )
  claims?: Record<string, unknown>;
}
