/** Readers shared by the provider dialects' error bodies. */
import { readNumber } from '../common/read-number.js';
import { isRfc6749ErrorCode } from '../errors/oauth-error-code.js';
import { asString } from '../common/values.js';

/** A numeric hint given as a number or a numeric string; anything else is no hint. */
export function asMilliseconds(value: unknown): number | undefined {
  const number = readNumber(value);
  return typeof number === 'number' && number >= 0 ? number : undefined;
}

/** "message (reason)" without empty parts; undefined when there is nothing to say. */
export function describe(message: unknown, reason?: unknown): string | undefined {
  const text = asString(message);
  const why = asString(reason);
  if (text === undefined) return why;
  return why === undefined ? text : `${text} (${why})`;
}

/** A provider code that happens to be an RFC 6749 §5.2 code names the library code too. */
export function rfcCodeOf(providerCode: string | undefined) {
  return isRfc6749ErrorCode(providerCode) ? providerCode : undefined;
}
