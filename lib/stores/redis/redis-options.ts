import { OAuthConfigError } from '../../errors/oauth-config.error.js';
import type { EncryptionKey } from './token-codec.js';

export interface RedisTokenStoreOptions {
  /** Prepended to every Redis key. Default `'oauth:'`. */
  prefix?: string;
  /** Seal values with AES-256-GCM: 32 bytes (Buffer, 64 hex digits or base64). Every replica needs the same key. */
  encryptionKey?: EncryptionKey;
  /** No call waits on Redis longer than this; past it the store is treated as unavailable. Default 250. */
  commandTimeoutMs?: number;
  /**
   * Lifetime of a fetch lock. A live holder renews it; a crashed one blocks others at most this
   * long. Default 10 000.
   */
  lockTtlMs?: number;
}

/** The options with their defaults, checked; `encryptionKey` is checked by `TokenCodec`. */
export function resolveOptions(options: RedisTokenStoreOptions): {
  prefix: string;
  commandTimeoutMs: number;
  lockTtlMs: number;
} {
  return {
    prefix: options.prefix ?? 'oauth:',
    commandTimeoutMs: positive(options.commandTimeoutMs ?? 250, 'commandTimeoutMs'),
    lockTtlMs: positive(options.lockTtlMs ?? 10_000, 'lockTtlMs'),
  };
}

function positive(value: number, field: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new OAuthConfigError(
      `RedisTokenStore: option "${field}" must be a positive number of milliseconds.`,
      undefined,
      field,
    );
  }
  return value;
}
