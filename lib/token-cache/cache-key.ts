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
 * Builds keys and remembers them per client and requested scope, so the hot path (a cached token)
 * costs two map lookups and no hashing.
 */
export class CacheKeyFactory {
  /** Weak: a client removed or replaced at runtime takes its keys with it. */
  private readonly memo = new WeakMap<ResolvedClient, Map<string, CacheKey>>();

  constructor(private readonly counters = new LookupCounters()) {}

  keyFor(client: ResolvedClient, scope: string | readonly string[] | undefined): CacheKey {
    const requested = scope === undefined ? '\u0000' : typeof scope === 'string' ? scope : scope.join(' ');
    let perClient = this.memo.get(client);
    const known = perClient?.get(requested);
    if (known !== undefined && known.credentials === client.credentials) return known;

    if (perClient === undefined || perClient.size >= MAX_MEMO_PER_CLIENT) {
      perClient = new Map();
      this.memo.set(client, perClient);
    }
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
