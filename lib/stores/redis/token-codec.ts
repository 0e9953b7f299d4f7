import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { asRecord } from '../../common/values.js';
import { OAuthConfigError } from '../../errors/oauth-config.error.js';
import type { StoredToken } from '../token-store.interface.js';

/** A 32-byte AES-256 key: raw bytes, or a string of 64 hex digits or base64(url) of 32 bytes. */
export type EncryptionKey = string | Uint8Array;

const PLAIN = 'p1:';
const SEALED = 'e1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Why a stored value was not used; it is then a cache miss. */
export type UnreadableReason =
  'wrong encryption key or corrupt value' | 'not encrypted' | 'encrypted, but no key configured' | 'malformed value';

export type Decoded = { ok: true; value: StoredToken } | { ok: false; reason: UnreadableReason };

/**
 * Turns a stored token into the string kept in Redis and back. With a key, values are sealed with
 * AES-256-GCM (random 96-bit IV, the Redis key as additional data, so a value copied to another key
 * does not open); without one they are JSON. Nothing read back is trusted before it validates.
 */
export class TokenCodec {
  private readonly key: Buffer | undefined;

  constructor(encryptionKey: EncryptionKey | undefined) {
    this.key = encryptionKey === undefined ? undefined : parseKey(encryptionKey);
  }

  encode(redisKey: string, value: StoredToken): string {
    const json = JSON.stringify({ token: value.token, obtainedAt: value.obtainedAt });
    if (this.key === undefined) return PLAIN + json;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(redisKey, 'utf8'));
    const sealed = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
    return SEALED + Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64');
  }

  decode(redisKey: string, stored: string): Decoded {
    let json: string;
    if (stored.startsWith(SEALED)) {
      if (this.key === undefined) return { ok: false, reason: 'encrypted, but no key configured' };
      try {
        const raw = Buffer.from(stored.slice(SEALED.length), 'base64');
        if (raw.length <= IV_BYTES + TAG_BYTES) return { ok: false, reason: 'wrong encryption key or corrupt value' };
        const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, IV_BYTES));
        decipher.setAAD(Buffer.from(redisKey, 'utf8'));
        decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        json = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
      } catch {
        return { ok: false, reason: 'wrong encryption key or corrupt value' };
      }
    } else if (stored.startsWith(PLAIN)) {
      if (this.key !== undefined) return { ok: false, reason: 'not encrypted' };
      json = stored.slice(PLAIN.length);
    } else {
      return { ok: false, reason: 'malformed value' };
    }
    const value = parseStoredToken(json);
    return value === undefined ? { ok: false, reason: 'malformed value' } : { ok: true, value };
  }
}

function parseStoredToken(json: string): StoredToken | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  const stored = asRecord(parsed);
  const token = asRecord(stored?.token);
  if (stored === undefined || token === undefined || !isFiniteNumber(stored.obtainedAt)) return undefined;
  const { accessToken, tokenType, expiresAt, scope } = token;
  if (typeof accessToken !== 'string' || accessToken.length === 0) return undefined;
  if (typeof tokenType !== 'string' || !isFiniteNumber(expiresAt)) return undefined;
  if (scope !== undefined && typeof scope !== 'string') return undefined;
  return {
    token: { accessToken, tokenType, expiresAt, ...(scope === undefined ? {} : { scope }) },
    obtainedAt: stored.obtainedAt,
  };
}

function parseKey(key: EncryptionKey): Buffer {
  let bytes: Buffer | undefined;
  if (typeof key !== 'string') {
    bytes = Buffer.from(key);
  } else if (/^[0-9a-fA-F]{64}$/.test(key)) {
    bytes = Buffer.from(key, 'hex');
  } else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(key)) {
    bytes = Buffer.from(key, key.includes('-') || key.includes('_') ? 'base64url' : 'base64');
  }
  if (bytes?.length !== 32) {
    throw new OAuthConfigError(
      'RedisTokenStore: option "encryptionKey" must be 32 bytes (a Buffer, 64 hex digits or base64 of 32 bytes), ' +
        'e.g. crypto.randomBytes(32).toString("base64").',
      undefined,
      'encryptionKey',
    );
  }
  return bytes;
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
