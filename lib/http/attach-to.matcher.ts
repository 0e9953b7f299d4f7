/**
 * Decides which client's token a request URL gets, on parsed URLs only. Entries are parsed once at
 * boot into (origin, path prefix); a request costs one `Map` lookup by origin and a few
 * `startsWith` checks on its already-normalised path.
 */
import { endpointKey, withoutTrailingSlashes } from '../common/url.js';

export interface AttachToEntry {
  readonly client: string;
  /** WHATWG origin: lowercase scheme and host, default port dropped, IDN in punycode. */
  readonly origin: string;
  /** Path prefix without a trailing slash; `''` for the whole origin. */
  readonly path: string;
}

export interface AttachToMatch {
  readonly client: string;
  /** Length of the matched path prefix: the longest prefix wins across clients and modules. */
  readonly length: number;
}

export interface MatchableClient {
  readonly name: string;
  readonly attachTo: readonly string[];
  /** The configured token URL; `undefined` for a client whose endpoint is discovered (`issuer`). */
  readonly tokenUrl: string | undefined;
  /** A discovered token endpoint, read when a URL is resolved (it is known after the first token request). */
  readonly issuer?: { readonly tokenEndpointKey: string | undefined };
}

/** `https://API.example.com:443/v2/` → `{ origin: 'https://api.example.com', path: '/v2' }`. */
export function parseAttachToEntry(client: string, raw: string): AttachToEntry {
  const url = new URL(raw);
  return { client, origin: url.origin, path: withoutTrailingSlashes(url.pathname) };
}

/**
 * The URL a request goes to, parsed as the http adapter parses it; `undefined` when it cannot be
 * parsed (a relative URL without `baseURL`), which matches nothing.
 */
export function parseRequestUrl(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

export class AttachToMatcher {
  private readonly byOrigin = new Map<string, { entry: AttachToEntry; withSlash: string }[]>();
  private readonly tokenEndpoints = new Set<string>();
  private readonly discovered: { readonly tokenEndpointKey: string | undefined }[] = [];
  /** Prefixes configured for more than one client; the first configured one wins. */
  readonly conflicts: { origin: string; path: string; clients: string[] }[] = [];

  constructor(clients: Iterable<MatchableClient>) {
    for (const client of clients) {
      for (const raw of client.attachTo) this.add(parseAttachToEntry(client.name, raw));
      const tokenUrl = client.tokenUrl === undefined ? undefined : parseRequestUrl(client.tokenUrl);
      if (tokenUrl !== undefined) this.tokenEndpoints.add(endpointKey(tokenUrl));
      if (client.issuer !== undefined) this.discovered.push(client.issuer);
    }
    for (const entries of this.byOrigin.values()) entries.sort((a, b) => b.entry.path.length - a.entry.path.length);
  }

  /** The client whose prefix matches `url`, longest prefix first; `undefined` when none does. */
  match(url: URL): AttachToMatch | undefined {
    const entries = this.byOrigin.get(url.origin);
    if (entries === undefined) return undefined;
    const path = url.pathname;
    for (const { entry, withSlash } of entries) {
      if (entry.path === '' || path === entry.path || path.startsWith(withSlash)) {
        return { client: entry.client, length: entry.path.length };
      }
    }
    return undefined;
  }

  /** True when `url` is one of the clients' token endpoints (which never get a bearer). */
  isTokenEndpoint(url: URL): boolean {
    const key = endpointKey(url);
    if (this.tokenEndpoints.has(key)) return true;
    for (let i = 0; i < this.discovered.length; i++) if (this.discovered[i]!.tokenEndpointKey === key) return true;
    return false;
  }

  private add(entry: AttachToEntry): void {
    let entries = this.byOrigin.get(entry.origin);
    if (entries === undefined) this.byOrigin.set(entry.origin, (entries = []));
    const same = entries.find((e) => e.entry.path === entry.path);
    if (same !== undefined) {
      if (same.entry.client !== entry.client) {
        const conflict = this.conflicts.find((c) => c.origin === entry.origin && c.path === entry.path);
        if (conflict) conflict.clients.push(entry.client);
        else
          this.conflicts.push({
            origin: entry.origin,
            path: entry.path || '/',
            clients: [same.entry.client, entry.client],
          });
      }
      return;
    }
    entries.push({ entry, withSlash: `${entry.path}/` });
  }
}
