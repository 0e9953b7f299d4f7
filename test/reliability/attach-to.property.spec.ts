import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { AttachToMatcher, parseRequestUrl, type MatchableClient } from '../../lib/http/attach-to.matcher.js';

/**
 * Properties of `attachTo` matching (docs/http.md) over generated entries and
 * request URLs, checked against a small reference model that works on path SEGMENTS: an entry
 * matches when the scheme, host and port are the same and its segments are a prefix of the
 * request's (after dot-segment resolution); the longest entry wins.
 */
const hosts = ['api.example.com', 'example.com', 'billing.example.com', '127.0.0.1', 'xn--bcher-kva.example'];
const segment = fc.constantFrom('v1', 'v2', 'sandbox', 'sandboxed', 'api', 'a', 'b', 'users', 'x-y', '%41');
const pathOf = (segments: string[]) => segments.map((s) => `/${s}`).join('');

interface Origin {
  scheme: 'http' | 'https';
  host: string;
  port?: number;
}
const origin: fc.Arbitrary<Origin> = fc.record(
  {
    scheme: fc.constantFrom('http' as const, 'https' as const),
    host: fc.constantFrom(...hosts),
    port: fc.constantFrom(80, 443, 8080),
  },
  { requiredKeys: ['scheme', 'host'] },
);

/** The same origin spelled differently: upper-case scheme/host, an explicit default port. */
function spell(o: Origin, variant: number): string {
  const scheme = variant & 1 ? o.scheme.toUpperCase() : o.scheme;
  const host = variant & 2 ? o.host.toUpperCase() : o.host;
  const defaultPort = o.scheme === 'https' ? 443 : 80;
  const port = o.port ?? (variant & 4 ? defaultPort : undefined);
  return `${scheme}://${host}${port === undefined ? '' : `:${port}`}`;
}
function canonicalOrigin(o: Origin): string {
  const defaultPort = o.scheme === 'https' ? 443 : 80;
  return `${o.scheme}://${o.host}${o.port === undefined || o.port === defaultPort ? '' : `:${o.port}`}`;
}

interface Entry {
  client: string;
  origin: Origin;
  segments: string[];
  trailingSlash: boolean;
  variant: number;
}
const entry = fc.record({
  client: fc.constantFrom('alpha', 'beta', 'gamma', 'delta'),
  origin,
  segments: fc.array(segment, { maxLength: 3 }),
  trailingSlash: fc.boolean(),
  variant: fc.integer({ min: 0, max: 7 }),
});

/** A request path: segments, some of them `.` / `..`, maybe a trailing slash, query, fragment. */
const requestPath = fc.record({
  segments: fc.array(
    fc.oneof({ weight: 5, arbitrary: segment }, { weight: 1, arbitrary: fc.constantFrom('.', '..') }),
    { maxLength: 5 },
  ),
  trailingSlash: fc.boolean(),
  query: fc.constantFrom('', '?a=1', '?next=/v1/admin', '#frag'),
});

function resolveDots(segments: string[]): string[] {
  const out: string[] = [];
  for (const s of segments) {
    if (s === '..') out.pop();
    else if (s !== '.') out.push(s);
  }
  return out;
}

/** The reference model. Segments are compared as the URL parser leaves them. */
function modelMatch(
  entries: Entry[],
  reqOrigin: Origin,
  reqSegments: string[],
  trailingSlash: boolean,
): string | undefined {
  const resolved = resolveDots(reqSegments);
  // A trailing `.`/`..` leaves a directory path: `/a/..` is `/`, `/a/.` is `/a/`.
  const last = reqSegments[reqSegments.length - 1];
  const dirAtEnd = trailingSlash || last === '.' || last === '..';
  const reqPathSegments = dirAtEnd && resolved.length > 0 ? [...resolved, ''] : resolved;
  let best: { client: string; length: number } | undefined;
  const seen = new Map<string, string>();
  for (const e of entries) {
    if (canonicalOrigin(e.origin) !== canonicalOrigin(reqOrigin)) continue;
    const key = pathOf(e.segments);
    // The first client configured for a prefix keeps it.
    if (seen.has(key)) continue;
    seen.set(key, e.client);
    const isPrefix = e.segments.every((s, i) => reqPathSegments[i] === s);
    if (!isPrefix) continue;
    const length = key.length;
    if (best === undefined || length > best.length) best = { client: e.client, length };
  }
  return best?.client;
}

function matcherFor(entries: Entry[]): AttachToMatcher {
  const byClient = new Map<string, string[]>();
  for (const e of entries) {
    const raw = spell(e.origin, e.variant) + pathOf(e.segments) + (e.trailingSlash ? '/' : '');
    byClient.set(e.client, [...(byClient.get(e.client) ?? []), raw]);
  }
  // Clients are configured in the order their first entry appears (the model's "first wins").
  const clients: MatchableClient[] = [...byClient].map(([name, attachTo]) => ({
    name,
    attachTo,
    tokenUrl: 'https://idp.invalid/token',
  }));
  return new AttachToMatcher(clients);
}

describe('AttachToMatcher', () => {
  let matched = 0;
  it('agrees with the segment-prefix model, longest prefix first, over generated configs and URLs', () => {
    fc.assert(
      fc.property(
        fc.array(entry, { minLength: 1, maxLength: 6 }),
        origin,
        fc.nat(),
        requestPath,
        fc.integer({ min: 0, max: 7 }),
        (entries, randomOrigin, pick, req, variant) => {
          // Most requests go to a configured origin, so the prefix logic is what gets exercised.
          const reqOrigin = pick % 4 === 0 ? randomOrigin : entries[pick % entries.length]!.origin;
          const ordered = orderByClient(entries);
          const matcher = matcherFor(ordered);
          const url = parseRequestUrl(
            spell(reqOrigin, variant) + pathOf(req.segments) + (req.trailingSlash ? '/' : '') + req.query,
          );
          expect(url).toBeDefined();
          const expected = modelMatch(ordered, reqOrigin, req.segments, req.trailingSlash);
          if (expected !== undefined) matched++;
          expect(matcher.match(url!)?.client).toBe(expected);
        },
      ),
      { numRuns: 3000 },
    );
    // The generator is not degenerate: a fair share of the URLs do match some entry.
    expect(matched).toBeGreaterThan(300);
  });

  it('an entry matches itself, with or without a trailing slash, and every path below it', () => {
    fc.assert(
      fc.property(entry, fc.array(segment, { maxLength: 3 }), fc.integer({ min: 0, max: 7 }), (e, below, variant) => {
        const matcher = matcherFor([e]);
        const base = spell(e.origin, variant) + pathOf(e.segments);
        for (const raw of [base, `${base}/`, base + pathOf(below), `${base + pathOf(below)}?q=1`]) {
          expect(matcher.match(new URL(raw))?.client).toBe(e.client);
        }
      }),
    );
  });

  it('a path that only continues the entry without a "/" never matches (/sandbox vs /sandboxed)', () => {
    fc.assert(
      fc.property(entry, fc.stringMatching(/^[a-z0-9_-]{1,6}$/), (e, suffix) => {
        fc.pre(e.segments.length > 0);
        const matcher = matcherFor([e]);
        const url = new URL(spell(e.origin, 0) + pathOf(e.segments) + suffix);
        expect(matcher.match(url)).toBeUndefined();
      }),
    );
  });

  it('another scheme, host or port never matches', () => {
    fc.assert(
      fc.property(entry, origin, fc.array(segment, { maxLength: 3 }), (e, other, below) => {
        fc.pre(canonicalOrigin(other) !== canonicalOrigin(e.origin));
        const matcher = matcherFor([e]);
        expect(matcher.match(new URL(spell(other, 0) + pathOf(e.segments) + pathOf(below)))).toBeUndefined();
      }),
    );
  });

  it('dot segments cannot climb out of a prefix: /v1/../admin is not under /v1', () => {
    fc.assert(
      fc.property(entry, segment, (e, escape) => {
        fc.pre(e.segments.length > 0);
        const matcher = matcherFor([e]);
        const raw = `${spell(e.origin, 0)}${pathOf(e.segments)}/${'../'.repeat(e.segments.length)}${escape}-outside`;
        expect(matcher.match(new URL(raw))).toBeUndefined();
      }),
    );
  });

  it("a client's token endpoint is recognised however its URL is spelled", () => {
    fc.assert(
      fc.property(
        origin,
        fc.array(segment, { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 7 }),
        fc.boolean(),
        (o, segments, variant, slash) => {
          const tokenUrl = `${canonicalOrigin(o)}${pathOf(segments)}`;
          const matcher = new AttachToMatcher([{ name: 'alpha', attachTo: [], tokenUrl }]);
          expect(matcher.isTokenEndpoint(new URL(spell(o, variant) + pathOf(segments) + (slash ? '/' : '')))).toBe(
            true,
          );
        },
      ),
    );
  });
});

/** Groups entries by client, keeping the order of each client's first entry. */
function orderByClient(entries: Entry[]): Entry[] {
  const order: string[] = [];
  for (const e of entries) if (!order.includes(e.client)) order.push(e.client);
  return order.flatMap((client) => entries.filter((e) => e.client === client));
}
