import { describe, expect, it } from '@jest/globals';
import { OAuthConfigError } from '../../lib/index.js';
import type { BearerParticipant } from '../../lib/http/bearer-participant.js';
import {
  chooseClient,
  NO_SELECTION,
  NO_URL_TARGET,
  readSelection,
  retriesAfter401,
  tokenMayFollow,
} from '../../lib/http/bearer-policy.js';
import type { RequestTarget } from '../../lib/http/request-targets.js';

/**
 * The transport-neutral rules alone, over plain values (the transports' end-to-end specs hold
 * the same rules on real calls).
 */
function participant(clients: string[], tokenEndpoints: string[] = []): BearerParticipant {
  return {
    knows: (client) => clients.includes(client),
    match: () => undefined,
    isTokenEndpoint: (url) => tokenEndpoints.includes(url.href),
    cachedToken: () => undefined,
    getToken: () => Promise.reject(new Error('not used here')),
    rejected: () => Promise.resolve(),
    authorization: (_client, token) => `Bearer ${token.accessToken}`,
    dpopSigner: () => undefined,
    dpopNonce: () => undefined,
    nonceRetried: () => undefined,
  };
}

const api = participant(['billing', 'crm'], ['https://auth.example/oauth/token']);
const other = participant(['ledger']);
const matched = (client: string): RequestTarget => ({
  origin: 'https://api.example',
  excluded: false,
  matched: { participant: api, client },
});

describe('readSelection: the per-request oauth option', () => {
  it('reads each form', () => {
    expect(readSelection(undefined)).toBe(NO_SELECTION);
    expect(readSelection('billing')).toEqual({ client: 'billing' });
    const object = { scope: 'read', retryOn401: true };
    expect(readSelection(object)).toBe(object);
  });

  it.each([[42], [null], [{ client: 7 }], [true]])('rejects %p with OAuthConfigError naming the option', (option) => {
    const error = (() => {
      try {
        readSelection(option as never);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(OAuthConfigError);
    expect((error as OAuthConfigError).field).toBe('oauth');
  });
});

describe('chooseClient: which token a call carries', () => {
  it('the attachTo match, unless the call names a client', () => {
    expect(chooseClient([api, other], matched('crm'), NO_SELECTION)).toEqual({ participant: api, client: 'crm' });
    expect(chooseClient([api, other], matched('crm'), { client: 'ledger' })).toEqual({
      participant: other,
      client: 'ledger',
    });
  });

  it('none without a match, and none for a token endpoint or a URL with its own credentials', () => {
    expect(
      chooseClient([api], { origin: 'https://x.example', excluded: false, matched: undefined }, NO_SELECTION),
    ).toBeUndefined();
    expect(chooseClient([api], { ...matched('crm'), excluded: true }, NO_SELECTION)).toBeUndefined();
    expect(chooseClient([api], { ...matched('crm'), excluded: true }, { client: 'billing' })).toBeUndefined();
  });

  it('a call without a URL only gets an explicit client', () => {
    expect(chooseClient([api], NO_URL_TARGET, NO_SELECTION)).toBeUndefined();
    expect(chooseClient([api], NO_URL_TARGET, { client: 'billing' })).toEqual({ participant: api, client: 'billing' });
  });

  it('an unknown explicit client is an OAuthConfigError naming it', () => {
    expect(() => chooseClient([api], matched('crm'), { client: 'nope' })).toThrow(/"nope"/);
  });
});

describe('tokenMayFollow: redirects', () => {
  const origin = 'https://api.example';
  it.each([
    ['https://api.example/v2/other', true],
    ['https://api.example:8443/v2', false],
    ['http://api.example/v2', false],
    ['https://sub.api.example/v2', false],
    ['https://evil.example/v2', false],
  ])('from %s: %p', (next, follows) => {
    expect(tokenMayFollow([api], origin, new URL(next))).toBe(follows);
  });

  it('never to a token endpoint of any client, even at the same origin', () => {
    const sameOriginEndpoint = participant(['x'], ['https://api.example/oauth/token']);
    expect(tokenMayFollow([api, sameOriginEndpoint], origin, new URL('https://api.example/oauth/token'))).toBe(false);
  });

  it('never when the origin or the next URL is unknown', () => {
    expect(tokenMayFollow([api], undefined, new URL('https://api.example/'))).toBe(false);
    expect(tokenMayFollow([api], origin, undefined)).toBe(false);
  });
});

describe('retriesAfter401', () => {
  it.each([
    ['GET', undefined, true, true],
    ['head', undefined, true, true],
    ['PUT', undefined, true, true],
    ['DELETE', undefined, true, true],
    ['OPTIONS', undefined, true, true],
    [undefined, undefined, true, true],
    ['POST', undefined, true, false],
    ['PATCH', undefined, true, false],
    ['POST', true, true, true],
    ['GET', false, true, false],
    ['GET', undefined, false, false],
    ['POST', true, false, false],
  ] as const)('%s, retryOn401 %p, replayable body %p → %p', (method, retryOn401, replayable, retries) => {
    expect(retriesAfter401(method, retryOn401, replayable)).toBe(retries);
  });
});
