import { describe, expect, it } from '@jest/globals';
import { AlternativePaymentsStrategy } from '../../lib/strategies/alternative-payments.strategy.js';
import { FirstVisionStrategy } from '../../lib/strategies/firstvision.strategy.js';
import { PalisadeStrategy } from '../../lib/strategies/palisade.strategy.js';
import type { TokenHttpResponse } from '../../lib/strategies/token-strategy.interface.js';
import { YouHodlerStrategy } from '../../lib/strategies/youhodler.strategy.js';

/** The parsed answer the token HTTP client hands a strategy. */
const answer = (status: number, json: unknown, headers: Record<string, string> = {}): TokenHttpResponse => ({
  status,
  headers,
  json,
  text: JSON.stringify(json) ?? '',
});

// Odd bodies each dialect must survive; the documented ones are covered end to end in <provider>.spec.ts.
describe('reading error bodies the documents do not show', () => {
  it('youhodler: retry_after_ms as a numeric string; an RFC body from a proxy; no body', () => {
    const strategy = new YouHodlerStrategy();
    expect(
      strategy.readError(
        answer(429, { code: 'rate_limited', message: 'Too many requests.', details: { retry_after_ms: '2500' } }),
      ),
    ).toEqual({
      code: 'rate_limited',
      providerCode: 'rate_limited',
      description: 'Too many requests.',
      retryAfterMs: 2500,
    });
    expect(strategy.readError(answer(401, { error: 'invalid_client', error_description: 'bad secret' }))).toMatchObject(
      { code: 'invalid_client', description: 'bad secret' },
    );
    expect(strategy.readError(answer(502, undefined))).toEqual({});
  });

  it('youhodler: a negative or non-numeric retry_after_ms is no hint', () => {
    const strategy = new YouHodlerStrategy();
    expect(
      strategy.readError(answer(429, { code: 'rate_limited', details: { retry_after_ms: -1 } })).retryAfterMs,
    ).toBeUndefined();
    expect(
      strategy.readError(answer(429, { code: 'rate_limited', details: { retry_after_ms: 'soon' } })).retryAfterMs,
    ).toBeUndefined();
  });

  it('palisade: a gRPC code sent as a string is kept as is', () => {
    expect(new PalisadeStrategy().readError(answer(401, { code: '16', message: 'unauthenticated' }))).toEqual({
      providerCode: '16',
      description: 'unauthenticated',
    });
  });

  it('firstvision: a single problem object, an {errors: [...]} wrapper, and a detail without invalid-params', () => {
    const strategy = new FirstVisionStrategy();
    expect(
      strategy.readError(answer(401, { errorCode: '240101', detail: 'Invalid client credentials or scope' })),
    ).toEqual({
      providerCode: '240101',
      description: 'Invalid client credentials or scope',
    });
    expect(strategy.readError(answer(400, { errors: [{ errorCode: 240100, title: 'Bad Request' }] }))).toEqual({
      providerCode: '240100',
      description: 'Bad Request',
    });
    expect(strategy.readError(answer(401, []))).toEqual({});
  });

  it('alternative-payments: an RFC error names the code; a message-only body is a description', () => {
    const strategy = new AlternativePaymentsStrategy();
    expect(strategy.readError(answer(403, { error: 'invalid_client' }))).toMatchObject({ code: 'invalid_client' });
    expect(strategy.readError(answer(403, { error: 'Access denied for this key' }))).toEqual({
      providerCode: undefined,
      description: 'Access denied for this key',
    });
    expect(strategy.readError(answer(429, 'Too Many Requests'))).toEqual({});
  });
});
