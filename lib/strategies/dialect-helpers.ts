/** Building blocks the built-in dialects share (internal: custom strategies use custom-strategy-helpers). */
import { IsIn, IsOptional } from 'class-validator';
import type { ConfigIssue } from '../common/validation.js';
import type { BasicEncoding } from '../interfaces/client-options.interface.js';
import type { TokenHttpRequest } from './token-strategy.interface.js';

/** A POST of a JSON body, as most non-RFC dialects want their token request. */
export function jsonPost(url: string, body: Record<string, unknown>): TokenHttpRequest {
  return {
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  };
}

export function scopeString(scope: readonly string[]): string | undefined {
  return scope.length > 0 ? scope.join(' ') : undefined;
}

/** The option of every dialect that sends a Basic header. */
export class BasicEncodingSchema {
  @IsOptional()
  @IsIn(['rfc6749', 'raw'], { message: "must be 'rfc6749' or 'raw'" })
  basicEncoding?: string;
}

/** `basicEncoding: 'raw'` cannot carry a `:` in the client id (it would end the id early). */
export function rawBasicIssues(
  options: { clientId: string; basicEncoding?: BasicEncoding },
  sendsBasic: boolean,
): ConfigIssue[] {
  if (!sendsBasic || options.basicEncoding !== 'raw' || !options.clientId.includes(':')) return [];
  return [
    {
      field: 'clientId',
      problem: "contains ':', which basicEncoding 'raw' cannot send in a Basic header; use 'rfc6749'",
    },
  ];
}
