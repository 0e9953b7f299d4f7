import { digest } from '../../common/fingerprint.js';

/** The Redis keys behind one cache key. */
export interface RedisKeys {
  value: string;
  lock: string;
  /** The set of the client's value keys, for `deleteClient`. */
  index: string;
}

/**
 * Names the store's keys: `<prefix>{<client hash>}:t:<key hash>` for a value, `:l:` for its lock
 * and `<prefix>{<client hash>}:i` for the client's index. Neither the client name nor any secret
 * appears, and all keys of one client share the `{hash tag}`, so scripts stay in one Cluster slot.
 */
export class RedisKeyspace {
  /** Where replicas announce invalidations. */
  readonly channel: string;

  constructor(private readonly prefix: string) {
    this.channel = `${prefix}invalidate`;
  }

  forKey(key: string): RedisKeys {
    const separator = key.indexOf(':');
    const tag = this.tag(separator < 0 ? key : key.slice(0, separator));
    const hashed = digest(key);
    return { value: `${tag}:t:${hashed}`, lock: `${tag}:l:${hashed}`, index: `${tag}:i` };
  }

  /** The index key of `client` (its plain name). */
  clientIndex(client: string): string {
    return `${this.tag(encodeURIComponent(client))}:i`;
  }

  /** `client` as it appears in cache keys (URI-encoded). */
  private tag(client: string): string {
    return `${this.prefix}{${digest(client).slice(0, 22)}}`;
  }
}
