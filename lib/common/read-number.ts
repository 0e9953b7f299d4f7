const NUMERIC = /^\s*-?\d+(\.\d+)?\s*$/;

/**
 * A number sent as a JSON number or a numeric string, as providers do for `expires_in` and retry
 * hints: `undefined` when absent, `'invalid'` when present but not a finite number.
 */
export function readNumber(value: unknown): number | undefined | 'invalid' {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? value : 'invalid';
  if (typeof value === 'string' && NUMERIC.test(value)) return Number(value);
  return 'invalid';
}
