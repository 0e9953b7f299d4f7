import { digest } from '../common/fingerprint.js';
import type { ResolvedClient } from '../config/resolved-client.js';
import { normalizeScope } from '../config/resolved-client.js';
import { LookupCounters, type LookupCounts } from '../observability/lookup-counters.js';

/** One cache key = one single-flight key: everything that makes two token requests differ. */
export interface CacheKey {
  /** `<client>:<sha256>`; the client part lets a store drop all of a client's entries. */
  readonly id: string;
  readonly client: ResolvedClient;
  readonly scope: readonly string[];
  /** The credentials the key was made from; after rotation a key made earlier is stale. */
  readonly credentials: ResolvedClient['credentials'];
  /** Its client's cache-lookup counts (shared by the client's keys; read by telemetry). */
  readonly lookups: LookupCounts;
}

const MAX_MEMO_PER_CLIENT = 1024;
/** Stands for the secret of a client whose `clientSecret` is a provider (with its client id beside it). */
const SECRET_FROM_PROVIDER = 'secret-provider';

export function clientKeyPrefix(client: string): string {
  return `${encodeURIComponent(client)}:`;
}

/**
 * One client's keys by requested scope, in two generations of at most MAX_MEMO_PER_CLIENT each:
 * when the newer is full it becomes the older and the older is forgotten; a key found in the
 * older moves to the newer. So up to MAX_MEMO_PER_CLIENT scopes used in turn are never rebuilt
 * (a digest each), and memory stays bounded however many scopes a client is asked for.
 */
class KeyMemo {
  private newer = new Map<string, CacheKey>();
  private older = new Map<string, CacheKey>();

  get(requested: string): CacheKey | undefined {
    const key = this.newer.get(requested);
    if (key !== undefined) return key;
    const old = this.older.get(requested);
    if (old !== undefined) {
      this.older.delete(requested);
      this.set(requested, old);
    }
    return old;
  }

  set(requested: string, key: CacheKey): void {
    if (this.newer.size >= MAX_MEMO_PER_CLIENT) {
      this.older = this.newer;
      this.newer = new Map();
    }
    this.newer.set(requested, key);
  }
}

/**
 * Builds keys and remembers them per client and requested scope, so the hot path (a cached token)
 * costs two map lookups and no hashing.
 */
export class CacheKeyFactory {
  /** Weak: a client removed or replaced at runtime takes its keys with it. */
  private readonly memo = new WeakMap<ResolvedClient, KeyMemo>();

  constructor(private readonly counters = new LookupCounters()) {}

  keyFor(client: ResolvedClient, scope: string | readonly string[] | undefined): CacheKey {
    const requested = scope === undefined ? '\u0000' : typeof scope === 'string' ? scope : scope.join(' ');
    let perClient = this.memo.get(client);
    const known = perClient?.get(requested);
    if (known !== undefined && known.credentials === client.credentials) return known;

    if (perClient === undefined) this.memo.set(client, (perClient = new KeyMemo()));
    const key = this.build(client, scope === undefined ? client.scope : normalizeScope(scope));
    perClient.set(requested, key);
    return key;
  }

  private build(client: ResolvedClient, scope: readonly string[]): CacheKey {
    const { credentials } = client;
    // A provider's value may change with each request: the key names the provider, never a value.
    const secretHash =
      typeof credentials.clientSecret === 'function' ? SECRET_FROM_PROVIDER : digest(credentials.clientSecret);
    const parts: unknown[] = [
      client.tokenUrl ?? client.issuer?.issuer,
      credentials.clientId,
      secretHash,
      scope,
      client.strategy.cacheKeyParams?.(client.options) ?? null,
      // A DPoP token is bound to its key: replicas share it only when they share the key.
      client.dpop?.thumbprint ?? null,
    ];
    // A key's JWK thumbprint or a certificate's hash, never the key: added only when there is one,
    // so the keys of secret-based clients stay what they were.
    if (client.auth.cacheKeyPart !== undefined) parts.push(client.auth.cacheKeyPart);
    const material = JSON.stringify(parts);
    const lookups = this.counters.of(client.name);
    return { id: clientKeyPrefix(client.name) + digest(material), client, scope, credentials, lookups };
  }
}
