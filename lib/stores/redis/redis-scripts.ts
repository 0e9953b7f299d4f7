import { randomBytes } from 'node:crypto';
import { defineScript } from './redis-commands.js';

/**
 * The Lua scripts behind the store, run with EVALSHA (see `RedisCommands.run`). Each runs
 * atomically in Redis, so checking the lock's fencing value and acting on it can never interleave
 * with another replica.
 *
 * Layout (all keys of one client share a `{hash tag}`, so every script stays in one Cluster slot):
 * - value `…:t:<hash>` — a hash: `d` payload (JSON or AES-GCM sealed), `o` obtainedAt, `w` a random
 *   write id (changes on every write; lets a waiter see that a newer token arrived), `a` sha256 of
 *   the access token (for compare-and-delete without opening the payload). PEXPIRE = the token's TTL.
 * - lock `…:l:<hash>` — a string holding the holder's random fencing value, SET NX PX lockTtlMs.
 * - failure `…:f:<hash>` — a hash: `k` kind, `c` code, `s` status, `p` provider code, `d`
 *   description, `u` until (epoch ms). PEXPIRE = its window. Removed when a token is written.
 * - index `…:i` — the set of a client's value keys, for `deleteClient`; `…:fi` the same for failures.
 * - generation `…:g` — the client's generation, bumped by every invalidation and credential
 *   replacement; starts at the server's time in ms, so a lost key never repeats an older value.
 * - channel `<prefix>invalidate` — invalidations (`o` origin, `c` client or `k` key, `a` token hash,
 *   `g` generation), so other replicas drop their in-process copies; and writes (`o`, `w` key), so
 *   replicas waiting for that key look at once. A plain PUBLISH, which a Cluster delivers to
 *   subscribers on every node.
 */

/**
 * What ACQUIRE and POLL answer: a state, the current write id, when the value changed its payload,
 * and when ACQUIRE took the lock the key's shared failure (READ_FAILURE's fields).
 */
export type ScriptReply = [number, string, (string | null)?, unknown[]?];

/** A fencing value, write id or origin: random, so no two replicas (or writes) share one. */
export const randomId = (): string => randomBytes(12).toString('base64url');

/** Bumps the generation `KEYS[n]`; from the server's clock (ms) when it does not exist. */
const BUMP = `
local function bump(key)
  if redis.call('EXISTS', key) == 0 then
    local t = redis.call('TIME')
    redis.call('SET', key, t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000)))
  end
  return redis.call('INCR', key)
end
`;

/** Adds the generation to a JSON message, then publishes it. */
const ANNOUNCE = `
local function announce(channel, message, generation)
  local decoded = cjson.decode(message)
  decoded['g'] = tostring(generation)
  redis.call('PUBLISH', channel, cjson.encode(decoded))
end
`;

/** KEYS: value, generation. → {payload|false, writeId|false, generation|false}. */
export const READ = defineScript(`
local v = redis.call('HMGET', KEYS[1], 'd', 'w')
return {v[1], v[2], redis.call('GET', KEYS[2])}
`);

/** KEYS: generation. → the client's generation, or false. */
export const GENERATION = defineScript(`return redis.call('GET', KEYS[1])`);

/**
 * KEYS: value, lock, failure. ARGV: fence, lockTtlMs, seenWriteId, hasSeen ('1'|'0').
 * → {2, w, payload} the value changed since `seenWriteId` (no lock taken);
 *   {1, w, false, failure} lock taken, with the key's shared failure fields (as READ_FAILURE);
 *   {0, w} another holder has it.
 */
export const ACQUIRE = defineScript(`
local w = redis.call('HGET', KEYS[1], 'w')
if ARGV[4] == '1' and w and w ~= ARGV[3] then
  return {2, w, redis.call('HGET', KEYS[1], 'd')}
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, w or '', false, redis.call('HMGET', KEYS[3], 'k', 'c', 's', 'p', 'd', 'u')}
end
return {0, w or ''}
`);

/**
 * KEYS: value, lock. ARGV: baselineWriteId.
 * → {2, w, payload} a newer value arrived; {0, w} still locked; {1, w} lock gone, nothing new.
 */
export const POLL = defineScript(`
local w = redis.call('HGET', KEYS[1], 'w')
if w and w ~= ARGV[1] then
  return {2, w, redis.call('HGET', KEYS[1], 'd')}
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {0, w or ''}
end
return {1, w or ''}
`);

/**
 * KEYS: value, lock, index, failure. ARGV: fence ('' = not a lock holder), payload, obtainedAt,
 * writeId, tokenHash, ttlMs, channel, message (JSON).
 * The lock holder writes. Anyone else writes only while nobody holds the lock and only a token
 * obtained later than the stored one, so a holder whose lock lapsed can never replace the token
 * of the replica that took over. A token written ends the key's shared failure, and is announced
 * so that replicas waiting for it look at once. → 1 written, 0 refused.
 */
export const WRITE = defineScript(`
local lock = redis.call('GET', KEYS[2])
if not (lock and ARGV[1] ~= '' and lock == ARGV[1]) then
  if lock then return 0 end
  local o = redis.call('HGET', KEYS[1], 'o')
  if o and tonumber(o) >= tonumber(ARGV[3]) then return 0 end
end
redis.call('DEL', KEYS[1], KEYS[4])
redis.call('HSET', KEYS[1], 'd', ARGV[2], 'o', ARGV[3], 'w', ARGV[4], 'a', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('SADD', KEYS[3], KEYS[1])
if redis.call('PTTL', KEYS[3]) < tonumber(ARGV[6]) then
  redis.call('PEXPIRE', KEYS[3], ARGV[6])
end
redis.call('PUBLISH', ARGV[7], ARGV[8])
return 1
`);

/** KEYS: lock. ARGV: fence, lockTtlMs. Extends the lock only while it is still ours. */
export const RENEW = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`);

/** KEYS: lock. ARGV: fence. Releases the lock only while it is still ours. */
export const RELEASE = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

/**
 * KEYS: value, generation. ARGV: tokenHash ('' = unconditionally), channel, message (JSON).
 * Compare-and-delete, bumps the client's generation, then tells the other replicas (they drop the
 * token from their in-process caches under the same rule). → {deleted, generation}.
 */
export const DELETE = defineScript(`${BUMP}${ANNOUNCE}
local deleted = 0
if ARGV[1] == '' or redis.call('HGET', KEYS[1], 'a') == ARGV[1] then
  deleted = redis.call('DEL', KEYS[1])
end
local g = bump(KEYS[2])
announce(ARGV[2], ARGV[3], g)
return {deleted, g}
`);

/**
 * KEYS: index, generation, failure index. ARGV: channel, message (JSON), clearInvalidClient ('1'|'0').
 * Drops every value key of one client (and, after a credential replacement, its `invalid_client`
 * failures), bumps its generation and tells the others. → {deleted, generation}.
 */
export const DELETE_CLIENT = defineScript(`${BUMP}${ANNOUNCE}
local members = redis.call('SMEMBERS', KEYS[1])
for _, key in ipairs(members) do
  redis.call('DEL', key)
end
redis.call('DEL', KEYS[1])
if ARGV[3] == '1' then
  for _, key in ipairs(redis.call('SMEMBERS', KEYS[3])) do
    if redis.call('HGET', key, 'k') == 'invalid_client' then
      redis.call('DEL', key)
    end
    if redis.call('EXISTS', key) == 0 then
      redis.call('SREM', KEYS[3], key)
    end
  end
end
local g = bump(KEYS[2])
announce(ARGV[1], ARGV[2], g)
return {#members, g}
`);

/** KEYS: failure. → {kind, code, status, providerCode, description, until} (false where absent). */
export const READ_FAILURE = defineScript(`
return redis.call('HMGET', KEYS[1], 'k', 'c', 's', 'p', 'd', 'u')
`);

/** KEYS: failure, failure index. ARGV: kind, code, status, providerCode, description, until, ttlMs. */
export const WRITE_FAILURE = defineScript(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'k', ARGV[1], 'c', ARGV[2], 's', ARGV[3], 'p', ARGV[4], 'd', ARGV[5], 'u', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('SADD', KEYS[2], KEYS[1])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[7]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[7])
end
return 1
`);
