import { randomBytes } from 'node:crypto';

/**
 * The Lua scripts behind the store. Each runs atomically in Redis, so checking the lock's fencing
 * value and acting on it can never interleave with another replica.
 *
 * Layout per cache key (all keys of one client share a `{hash tag}`, so scripts stay in one slot on
 * a Redis Cluster):
 * - value `…:t:<hash>` — a hash: `d` payload (JSON or AES-GCM sealed), `o` obtainedAt, `w` a random
 *   write id (changes on every write; lets a waiter see that a newer token arrived), `a` sha256 of
 *   the access token (for compare-and-delete without opening the payload). PEXPIRE = the token's TTL.
 * - lock `…:l:<hash>` — a string holding the holder's random fencing value, SET NX PX lockTtlMs.
 * - index `…:i` — the set of a client's value keys, for `deleteClient`.
 * - channel `<prefix>invalidate` — invalidations, so other replicas drop their in-process copies.
 */

/** What ACQUIRE and POLL answer: a state, the current write id and, when the value changed, its payload. */
export type ScriptReply = [number, string, (string | null)?];

/** A fencing value, write id or origin: random, so no two replicas (or writes) share one. */
export const randomId = (): string => randomBytes(12).toString('base64url');

/**
 * KEYS: value, lock. ARGV: fence, lockTtlMs, seenWriteId, hasSeen ('1'|'0').
 * → {2, w, payload} the value changed since `seenWriteId` (no lock taken);
 *   {1, w} lock taken; {0, w} another holder has it.
 */
export const ACQUIRE = `
local w = redis.call('HGET', KEYS[1], 'w')
if ARGV[4] == '1' and w and w ~= ARGV[3] then
  return {2, w, redis.call('HGET', KEYS[1], 'd')}
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, w or ''}
end
return {0, w or ''}
`;

/**
 * KEYS: value, lock. ARGV: baselineWriteId.
 * → {2, w, payload} a newer value arrived; {0, w} still locked; {1, w} lock gone, nothing new.
 */
export const POLL = `
local w = redis.call('HGET', KEYS[1], 'w')
if w and w ~= ARGV[1] then
  return {2, w, redis.call('HGET', KEYS[1], 'd')}
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {0, w or ''}
end
return {1, w or ''}
`;

/**
 * KEYS: value, lock, index. ARGV: fence ('' = not a lock holder), payload, obtainedAt, writeId,
 * tokenHash, ttlMs.
 * The lock holder writes. Anyone else writes only while nobody holds the lock and only a token
 * obtained later than the stored one, so a holder whose lock lapsed can never replace the token
 * of the replica that took over. → 1 written, 0 refused.
 */
export const WRITE = `
local lock = redis.call('GET', KEYS[2])
if not (lock and ARGV[1] ~= '' and lock == ARGV[1]) then
  if lock then return 0 end
  local o = redis.call('HGET', KEYS[1], 'o')
  if o and tonumber(o) >= tonumber(ARGV[3]) then return 0 end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'd', ARGV[2], 'o', ARGV[3], 'w', ARGV[4], 'a', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('SADD', KEYS[3], KEYS[1])
if redis.call('PTTL', KEYS[3]) < tonumber(ARGV[6]) then
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
end
return 1
`;

/** KEYS: lock. ARGV: fence, lockTtlMs. Extends the lock only while it is still ours. */
export const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

/** KEYS: lock. ARGV: fence. Releases the lock only while it is still ours. */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/**
 * KEYS: value. ARGV: tokenHash ('' = unconditionally), channel, message. Compare-and-delete, then
 * tells the other replicas (they drop the token from their in-process caches under the same rule).
 */
export const DELETE = `
local deleted = 0
if ARGV[1] == '' or redis.call('HGET', KEYS[1], 'a') == ARGV[1] then
  deleted = redis.call('DEL', KEYS[1])
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return deleted
`;

/** KEYS: index. ARGV: channel, message. Drops every value key of one client and tells the others. */
export const DELETE_CLIENT = `
local members = redis.call('SMEMBERS', KEYS[1])
for _, key in ipairs(members) do
  redis.call('DEL', key)
end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return #members
`;
