import { digest } from '../../common/fingerprint.js';

/** The Redis keys of one client. */
export interface RedisClientKeys {
  /** The set of the client's value keys, for `deleteClient`. */
  index: string;
  /** The set of the client's failure keys. */
  failureIndex: string;
  /** The client's generation, bumped by every invalidation. */
  generation: string;
}

/** The Redis keys behind one cache key. */
export interface RedisKeys extends RedisClientKeys {
  value: string;
  lock: string;
  failure: string;
}

/**
 * Names the store's keys: `<prefix>{<client hash>}:t:<key hash>` for a value, `:l:` for its lock,
 * `:f:` for its shared failure, and `<prefix>{<client hash>}:i` / `:fi` / `:g` for the client's
 * indexes and generation. Neither the client name nor any secret appears, and all keys of one
 * client share the `{hash tag}`, so every script stays in one Cluster slot.
 */
export class RedisKeyspace {
  /** Where replicas announce invalidations. */
  readonly channel: string;

  constructor(private readonly prefix: string) {
    this.channel = `${prefix}invalidate`;
  }

  forKey(key: string): RedisKeys {
    const tag = this.tag(encodedClient(key));
    const hashed = digest(key);
    return {
      value: `${tag}:t:${hashed}`,
      lock: `${tag}:l:${hashed}`,
      failure: `${tag}:f:${hashed}`,
      ...this.ofTag(tag),
    };
  }

  /** The keys of `client` (its plain name). */
  forClient(client: string): RedisClientKeys {
    return this.ofTag(this.tag(encodeURIComponent(client)));
  }

  private ofTag(tag: string): RedisClientKeys {
    return { index: `${tag}:i`, failureIndex: `${tag}:fi`, generation: `${tag}:g` };
  }

  /** `client` as it appears in cache keys (URI-encoded). */
  private tag(client: string): string {
    return `${this.prefix}{${digest(client).slice(0, 22)}}`;
  }
}

/** The client part of a cache key (`<URI-encoded client>:<hash>`), as the cache key has it. */
function encodedClient(key: string): string {
  const separator = key.indexOf(':');
  return separator < 0 ? key : key.slice(0, separator);
}

/** The plain client name of a cache key. */
export function clientOf(key: string): string {
  const encoded = encodedClient(key);
  try {
    return decodeURIComponent(encoded);
  } catch {
    return encoded;
  }
}
