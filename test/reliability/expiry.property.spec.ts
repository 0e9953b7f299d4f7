import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readNumber } from '../../lib/common/read-number.js';
import { computeExpiry, MAX_LIFETIME_MS } from '../../lib/token-endpoint/token-expiry.js';
import { fakeJwt } from '../support/recording-server.js';

/**
 * Properties of the `expires_in` normaliser (docs/configuration.md) over generated
 * inputs: numbers, numeric strings, absolute epochs in s and ms, JWT `exp` caps, garbage.
 */
const NOW = Date.UTC(2026, 0, 1);
const DEFAULT_TTL_MS = 300_000;

/** From 2002: an epoch in seconds is then above 1e9 and one in ms above 1e12, as the rule needs. */
const now = fc.integer({ min: Date.UTC(2002, 0, 1), max: Date.UTC(2100, 0, 1) });
/** Relative lifetimes: whole seconds up to 1e9 (the border with an absolute epoch in s). */
const relativeSeconds = fc.integer({ min: 1, max: 1e9 });
const opaque = fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/);
const jwtWithExp = (expSeconds: number) => fakeJwt({ sub: 'svc', exp: expSeconds });
/** Java's Long.MAX_VALUE as JSON.parse reads it (a double: 2^63). */
const LONG_MAX_VALUE = JSON.parse('9223372036854775807') as number;
/** The model's expiry: whatever the provider says, at most one year ahead (docs/errors.md). */
const clamped = (at: number, expiresAt: number) => Math.min(expiresAt, at + MAX_LIFETIME_MS);
const asNumberOrString = <T extends number>(arb: fc.Arbitrary<T>) =>
  arb.chain((n) => fc.constantFrom<number | string>(n, String(n), ` ${n} `));

describe('computeExpiry', () => {
  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.anything(), fc.oneof(fc.string(), opaque, fc.constant('a.b.c')), now, (expiresIn, token, at) => {
        const result = computeExpiry(expiresIn, token, at, DEFAULT_TTL_MS);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('an accepted result is an integer instant after now (or exactly now for expires_in 0)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.double(), fc.integer()), opaque, now, (expiresIn, token, at) => {
        const result = computeExpiry(expiresIn, token, at, DEFAULT_TTL_MS);
        if (!result.ok) return;
        expect(Number.isInteger(result.expiresAt)).toBe(true);
        if (readNumber(expiresIn) === 0) expect(result.expiresAt).toBe(at);
        else expect(result.expiresAt).toBeGreaterThan(at);
      }),
      { numRuns: 2000 },
    );
  });

  it('relative seconds, as a number or a numeric string, give now + n·1000', () => {
    fc.assert(
      fc.property(asNumberOrString(relativeSeconds), opaque, now, (expiresIn, token, at) => {
        expect(computeExpiry(expiresIn, token, at, DEFAULT_TTL_MS)).toEqual({
          ok: true,
          expiresAt: clamped(at, at + Number(expiresIn) * 1000),
          source: 'expires_in',
        });
      }),
    );
  });

  it('an accepted expiry is never more than one year ahead, however large the value', () => {
    const huge = fc.oneof(
      fc.constantFrom<unknown>(
        LONG_MAX_VALUE,
        '9223372036854775807',
        1e308,
        '1e308',
        Number.MAX_SAFE_INTEGER,
        8.64e15 + 1,
        2 ** 53,
      ),
      fc.double({ min: 1, max: 1e308, noNaN: true }),
    );
    fc.assert(
      fc.property(
        huge,
        fc.oneof(opaque, fc.integer({ min: 1, max: 2 ** 40 }).map(jwtWithExp)),
        now,
        (expiresIn, token, at) => {
          const result = computeExpiry(expiresIn, token, at, DEFAULT_TTL_MS);
          if (!result.ok) return;
          expect(result.expiresAt).toBeLessThanOrEqual(at + MAX_LIFETIME_MS);
          expect(() => new Date(result.expiresAt).toISOString()).not.toThrow();
        },
      ),
      { numRuns: 1000 },
    );
    expect(computeExpiry(LONG_MAX_VALUE, 'opaque-token', NOW, DEFAULT_TTL_MS)).toEqual({
      ok: true,
      expiresAt: NOW + MAX_LIFETIME_MS,
      source: 'expires_in',
    });
    expect(computeExpiry(1e308, 'opaque-token', NOW, DEFAULT_TTL_MS)).toEqual({
      ok: true,
      expiresAt: NOW + MAX_LIFETIME_MS,
      source: 'expires_in',
    });
  });

  it('is monotonic in a relative expires_in', () => {
    fc.assert(
      fc.property(relativeSeconds, relativeSeconds, opaque, (a, b, token) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const x = computeExpiry(lo, token, NOW, DEFAULT_TTL_MS);
        const y = computeExpiry(hi, token, NOW, DEFAULT_TTL_MS);
        expect(x.ok && y.ok && x.expiresAt <= y.expiresAt).toBe(true);
      }),
    );
  });

  it('above 1e9 is an absolute epoch in seconds; above 1e12 in milliseconds', () => {
    fc.assert(
      fc.property(now, fc.integer({ min: 1, max: 10 * 365 * 86_400 }), opaque, (at, aheadSeconds, token) => {
        const expiresAtMs = at + aheadSeconds * 1000;
        const inSeconds = Math.floor(expiresAtMs / 1000);
        const s = computeExpiry(inSeconds, token, at, DEFAULT_TTL_MS);
        const ms = computeExpiry(expiresAtMs, token, at, DEFAULT_TTL_MS);
        if (inSeconds * 1000 > at)
          expect(s).toEqual({ ok: true, expiresAt: clamped(at, inSeconds * 1000), source: 'expires_in' });
        else expect(s.ok).toBe(false);
        expect(ms).toEqual({ ok: true, expiresAt: clamped(at, expiresAtMs), source: 'expires_in' });
      }),
    );
  });

  it('an absolute epoch already in the past is refused, never served as a long-lived token', () => {
    fc.assert(
      fc.property(now, fc.integer({ min: 0, max: 10 * 365 * 86_400 }), opaque, (at, behindSeconds, token) => {
        const past = at - behindSeconds * 1000;
        fc.pre(past > 1e12);
        expect(computeExpiry(past, token, at, DEFAULT_TTL_MS).ok).toBe(false);
        if (past / 1000 > 1e9) expect(computeExpiry(Math.floor(past / 1000), token, at, DEFAULT_TTL_MS).ok).toBe(false);
      }),
    );
  });

  it("a JWT's exp caps the result and never extends it", () => {
    fc.assert(
      fc.property(now, relativeSeconds, fc.integer({ min: 1, max: 1e9 }), (at, expiresIn, expAhead) => {
        const exp = Math.floor(at / 1000) + expAhead;
        const result = computeExpiry(expiresIn, jwtWithExp(exp), at, DEFAULT_TTL_MS);
        const uncapped = at + expiresIn * 1000;
        const expected = clamped(at, Math.min(uncapped, exp * 1000));
        if (expected > at) expect(result).toMatchObject({ ok: true, expiresAt: expected });
        else expect(result.ok).toBe(false);
      }),
    );
  });

  it('missing expires_in falls back to the JWT exp, then to the default TTL', () => {
    const missing = fc.constantFrom(undefined, null, '');
    fc.assert(
      fc.property(missing, now, fc.integer({ min: 1, max: 1e6 }), opaque, (expiresIn, at, expAhead, token) => {
        const exp = Math.floor(at / 1000) + expAhead;
        expect(computeExpiry(expiresIn, jwtWithExp(exp), at, DEFAULT_TTL_MS)).toEqual({
          ok: true,
          expiresAt: clamped(at, exp * 1000),
          source: 'jwt',
        });
        expect(computeExpiry(expiresIn, token, at, DEFAULT_TTL_MS)).toEqual({
          ok: true,
          expiresAt: at + DEFAULT_TTL_MS,
          source: 'default',
        });
      }),
    );
  });

  it('expires_in 0 means use once: expiresAt is now, whatever the token says', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<unknown>(0, '0', ' 0 ', -0, '0.0'),
        fc.oneof(opaque, fc.integer({ min: 1, max: 2e9 }).map(jwtWithExp)),
        now,
        (zero, token, at) => {
          expect(computeExpiry(zero, token, at, DEFAULT_TTL_MS)).toEqual({
            ok: true,
            expiresAt: at,
            source: 'expires_in',
          });
        },
      ),
    );
  });

  it('negative, NaN, infinite and non-numeric values are invalid (invalid_response), never a default', () => {
    const bad = fc.oneof(
      fc.integer({ max: -1 }),
      fc.double({ max: -Number.MIN_VALUE, noNaN: true }),
      fc.constantFrom(
        Number.NaN,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        '-5',
        'NaN',
        'Infinity',
        '1e3',
        '0x10',
        'soon',
        '3600s',
      ),
      fc.boolean(),
      fc.object(),
      fc.array(fc.integer()),
      fc.string().filter((s) => s.trim() !== '' && !/^\s*-?\d+(\.\d+)?\s*$/.test(s)),
    );
    fc.assert(
      fc.property(bad, opaque, now, (expiresIn, token, at) => {
        expect(computeExpiry(expiresIn, token, at, DEFAULT_TTL_MS).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});
