import { describe, expect, it } from '@jest/globals';
import { AttachToMatcher, parseRequestUrl } from '../../lib/http/attach-to.matcher.js';

const matcher = new AttachToMatcher([
  { name: 'api', attachTo: ['https://api.example.com'], tokenUrl: 'https://auth.example.com/oauth/token' },
  { name: 'v2', attachTo: ['https://api.example.com/v2/'], tokenUrl: 'https://auth.example.com/oauth/token' },
  {
    name: 'sandbox',
    attachTo: ['https://sandbox.example.com:8443/sandbox'],
    tokenUrl: 'https://sandbox.example.com:8443/sandbox/oauth/token',
  },
  { name: 'idn', attachTo: ['https://bücher.example/'], tokenUrl: 'https://bücher.example/token' },
]);

const clientFor = (url: string) => {
  const parsed = parseRequestUrl(url);
  return parsed === undefined ? undefined : matcher.match(parsed)?.client;
};

describe('attachTo matching on parsed URLs', () => {
  it.each([
    ['https://api.example.com', 'api'],
    ['https://api.example.com/', 'api'],
    ['https://api.example.com/anything?q=1#h', 'api'],
    ['https://API.Example.COM/x', 'api'], // host case is not significant
    ['HTTPS://api.example.com/x', 'api'], // nor scheme case
    ['https://api.example.com:443/x', 'api'], // the default port is the same origin
    ['https://api.example.com/v2', 'v2'], // longest prefix wins
    ['https://api.example.com/v2/', 'v2'],
    ['https://api.example.com/v2/items/1', 'v2'],
    ['https://api.example.com/v2x/items', 'api'], // /v2x does not continue /v2 at a slash
    ['https://api.example.com/V2/items', 'api'], // paths are case-sensitive
    ['https://api.example.com/v2%2Fitems', 'api'], // an encoded slash is not a segment boundary
    ['https://api.example.com/other/../v2/items', 'v2'], // dot segments are resolved as the request resolves them
    ['https://sandbox.example.com:8443/sandbox', 'sandbox'],
    ['https://sandbox.example.com:8443/sandbox/x', 'sandbox'],
    ['https://xn--bcher-kva.example/books', 'idn'], // IDN and punycode are one host
  ])('%s → %s', (url, client) => {
    expect(clientFor(url)).toBe(client);
  });

  it.each([
    ['https://api.example.com@evil.test/', 'userinfo trick: the host is evil.test'],
    ['https://api.example.com:443@evil.test/v2', 'userinfo trick with a port'],
    ['https://evil.test/https://api.example.com/', 'the entry inside a path'],
    ['https://evil.test/?u=https://api.example.com', 'the entry in a query'],
    ['https://api.example.com.evil.test/', 'the entry as a subdomain of another host'],
    ['https://evilapi.example.com/', 'a host that ends like the entry'],
    ['https://x.api.example.com/', 'a subdomain of the entry'],
    ['https://api.example.com./', 'a trailing dot (a different host name to TLS and virtual hosting)'],
    ['http://api.example.com/', 'another scheme'],
    ['ftp://api.example.com/', 'a non-http scheme'],
    ['https://api.example.com:8443/', 'another port'],
    ['https://sandbox.example.com/sandbox', 'the default port where the entry has one'],
    ['https://sandbox.example.com:8443/sandboxed', 'a path that merely starts with the prefix'],
    ['https://sandbox.example.com:8443/', 'above the path prefix'],
    ['https://sandbox.example.com:8443/SANDBOX/x', 'the prefix in another case'],
    ['https://sandbox.example.com:8443/x/../sandboxed/', 'dot segments resolving outside the prefix'],
    ['/v2/items', 'a relative URL without a base'],
    ['//api.example.com/v2', 'a protocol-relative URL without a base'],
  ])('%s gets nothing (%s)', (url) => {
    expect(clientFor(url)).toBeUndefined();
  });

  it('reports the prefix length so the longest prefix wins across modules', () => {
    expect(matcher.match(new URL('https://api.example.com/v2/x'))).toEqual({ client: 'v2', length: 3 });
    expect(matcher.match(new URL('https://api.example.com/x'))).toEqual({ client: 'api', length: 0 });
  });

  it('knows every token endpoint, ignoring a trailing slash, query and case of the host', () => {
    expect(matcher.isTokenEndpoint(new URL('https://auth.example.com/oauth/token'))).toBe(true);
    expect(matcher.isTokenEndpoint(new URL('https://AUTH.example.com/oauth/token/?x=1'))).toBe(true);
    expect(matcher.isTokenEndpoint(new URL('https://sandbox.example.com:8443/sandbox/oauth/token'))).toBe(true);
    expect(matcher.isTokenEndpoint(new URL('https://auth.example.com/oauth/tokens'))).toBe(false);
  });

  it('records a prefix claimed by two clients; the first configured keeps it', () => {
    const twice = new AttachToMatcher([
      { name: 'a', attachTo: ['https://x.test/p'], tokenUrl: 'https://t.test/a' },
      { name: 'b', attachTo: ['https://x.test/p/'], tokenUrl: 'https://t.test/b' },
    ]);
    expect(twice.conflicts).toEqual([{ origin: 'https://x.test', path: '/p', clients: ['a', 'b'] }]);
    expect(twice.match(new URL('https://x.test/p/q'))?.client).toBe('a');
  });
});
