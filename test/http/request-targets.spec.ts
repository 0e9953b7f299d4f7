import { describe, expect, it } from '@jest/globals';
import type { InternalAxiosRequestConfig } from 'axios';
import { AttachToMatcher } from '../../lib/http/attach-to.matcher.js';
import type { BearerParticipant } from '../../lib/http/bearer-participant.js';
import { RequestTargets } from '../../lib/http/request-targets.js';

/** A participant that only matches URLs (what RequestTargets asks of it). */
function participant(clients: { name: string; attachTo: string[]; tokenUrl: string }[]): BearerParticipant {
  const matcher = new AttachToMatcher(clients);
  return {
    match: (url) => matcher.match(url),
    isTokenEndpoint: (url) => matcher.isTokenEndpoint(url),
  } as BearerParticipant;
}

const api = participant([
  { name: 'api', attachTo: ['https://api.example.com'], tokenUrl: 'https://auth.example.com/oauth/token' },
]);
const v2 = participant([
  { name: 'v2', attachTo: ['https://api.example.com/v2'], tokenUrl: 'https://api.example.com/v2/token' },
]);
const config = (fields: Partial<InternalAxiosRequestConfig>) => fields as InternalAxiosRequestConfig;
const clientOf = (targets: RequestTargets, fields: Partial<InternalAxiosRequestConfig>) => {
  const target = targets.of(config(fields));
  return target.excluded ? 'excluded' : target.matched?.client;
};

describe('RequestTargets: what a request URL decides, remembered per URL', () => {
  it('answers like a fresh parse for thousands of distinct URLs (ids in paths, queries), past its bound', () => {
    const targets = new RequestTargets([api, v2]);
    for (let i = 0; i < 3000; i++) {
      expect(clientOf(targets, { url: `https://api.example.com/v2/items/${i}?page=${i}` })).toBe('v2');
      expect(clientOf(targets, { url: `https://API.example.com:443/items/${i}` })).toBe('api');
      expect(clientOf(targets, { url: `https://other.example.com/v2/items/${i}` })).toBeUndefined();
    }
    // The first URLs again, long since dropped from the memo: the same answers.
    expect(clientOf(targets, { url: 'https://api.example.com/v2/items/0?page=0' })).toBe('v2');
    expect(clientOf(targets, { url: 'https://api.example.com/items/0' })).toBe('api');
  });

  it('joins baseURL and url as the http adapter does, and honours allowAbsoluteUrls: false', () => {
    const targets = new RequestTargets([api, v2]);
    expect(clientOf(targets, { baseURL: 'https://api.example.com/v2/', url: '/items' })).toBe('v2');
    expect(clientOf(targets, { baseURL: 'https://api.example.com/', url: 'v2/items' })).toBe('v2');
    expect(clientOf(targets, { baseURL: 'https://api.example.com/v2', url: '' })).toBe('v2');
    expect(
      clientOf(targets, { baseURL: 'https://api.example.com/v2', url: 'https://other.example.com/v2' }),
    ).toBeUndefined();
    expect(
      clientOf(targets, {
        baseURL: 'https://api.example.com/v2',
        url: 'https://other.example.com/x',
        allowAbsoluteUrls: false,
      }),
    ).toBe('v2');
    expect(targets.of(config({ url: '/relative/without/base' }))).toEqual({
      origin: undefined,
      excluded: false,
      matched: undefined,
    });
  });

  it('excludes URLs with their own credentials and every participant’s token endpoints', () => {
    const targets = new RequestTargets([api, v2]);
    expect(clientOf(targets, { url: 'https://user:pass@api.example.com/items' })).toBe('excluded');
    expect(clientOf(targets, { url: 'https://api.example.com/v2/token' })).toBe('excluded');
    expect(clientOf(targets, { url: 'https://api.example.com/v2/token/' })).toBe('excluded');
    expect(clientOf(targets, { url: 'https://api.example.com/v2/tokens' })).toBe('v2');
  });

  it('answers anew after clear(), when the participants have changed', () => {
    const participants = [api];
    const targets = new RequestTargets(participants);
    expect(clientOf(targets, { url: 'https://api.example.com/v2/items' })).toBe('api');
    participants.push(v2);
    targets.clear();
    expect(clientOf(targets, { url: 'https://api.example.com/v2/items' })).toBe('v2');
  });
});
