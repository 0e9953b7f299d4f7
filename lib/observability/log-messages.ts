/**
 * Every log line of the module, in one place (as Duende keeps its in `Log.cs`): wording stays
 * consistent, and a reviewer can check in one file that none carries a secret or a token. Lines
 * name clients, codes and token fingerprints only.
 */
const client = (name: string) => `OAuth client "${name}"`;

export const logMessages = {
  // Token requests (TokenFetcher)
  requesting: (name: string, tokenUrl: string, attempt: number) =>
    `Requesting a token for ${client(name)} from ${tokenUrl} (attempt ${attempt})`,
  retrying: (name: string, code: string, delayMs: number) =>
    `Token request for ${client(name)} failed with ${code}; retrying in ${delayMs} ms`,
  readingIssuerMetadata: (name: string, url: string) => `Reading the metadata of ${client(name)}'s issuer at ${url}`,
  noExpiresIn: (name: string, assumedSeconds: number) =>
    `${client(name)}: the token endpoint sent no expires_in; assuming ${assumedSeconds} s`,
  // Events (the logging listener)
  tokenFetched: (name: string, fingerprint: string, expires: string, source: 'endpoint' | 'store') => {
    const from = source === 'store' ? ' from the shared store' : '';
    return `Got token ${fingerprint} for ${client(name)}${from}, expires ${expires}`;
  },
  tokenFailed: (name: string, code: string, attempts: number) =>
    `Token request for ${client(name)} failed with ${code} after ${attempts} attempt${attempts === 1 ? '' : 's'}`,
  cooldownStarted: (name: string, code: string, retryAfterMs: number) =>
    `${client(name)}: ${code}; calls fail fast for ${retryAfterMs} ms as the token endpoint asked`,
  storeUnavailable: (store: string) =>
    `Token store ${store} unavailable; tokens are fetched and cached in this process until it is back`,
  storeRecovered: (store: string) => `Token store ${store} reachable again; sharing tokens across replicas resumed`,
  // The token service and its cache
  backgroundRefreshFailed: (name: string, code: string) =>
    `Background refresh for ${client(name)} failed (${code}); the current token is served until it expires`,
  warmUpFailed: (name: string, code: string) =>
    `Warm-up: no token for ${client(name)} (${code}); the first call will ask again`,
  clientAdded: (name: string, replaced: boolean) =>
    `${client(name)} ${replaced ? 'replaced' : 'added'} at runtime${replaced ? '; its cached tokens dropped' : ''}`,
  clientRemoved: (name: string) => `${client(name)} removed; its tokens dropped`,
  secretRotated: (name: string) =>
    `${client(name)}: invalid_client, and the credential provider now gives another value; retrying once`,
  credentialsReplaced: (name: string) => `${client(name)}: credentials replaced; cached tokens dropped`,
  cached: (name: string, fingerprint: string) => `Cached token ${fingerprint} for ${client(name)}`,
  storeCallFailed: (what: string, errorName: string) =>
    `Token store ${what} failed (${errorName}); continuing without it`,
  // Outgoing calls (every transport)
  refused: (name: string, fingerprint: string, willRetry: boolean) =>
    `Upstream answered 401 to a call with token ${fingerprint} of ${client(name)}; ` +
    (willRetry ? 'retrying once with a fresh token' : 'not retried'),
  sharedPrefix: (clients: readonly string[], prefix: string) =>
    `OAuth clients ${clients.map((c) => `"${c}"`).join(', ')} share the attachTo prefix ${prefix}; ` +
    `"${clients[0]}" is used for it`,
  axiosJoined: (count: number) => `Bearer interceptor joined ${count} HttpService axios instance(s)`,
  // Redis store
  redisKeptNewer: (kept: string, keyFingerprint: string) =>
    `Redis token store kept a newer token than ${kept} for key ${keyFingerprint}`,
  redisLockHeldTooLong: (keyFingerprint: string) =>
    `Redis token store: the fetch lock for key ${keyFingerprint} was held too long; fetching in this process`,
  redisBadValue: (valueKey: string, reason: string) =>
    `Redis token store: ignoring the stored value under ${valueKey} (${reason}); treating it as a cache miss`,
  redisUnavailable: (reason: string) =>
    `Redis token store unavailable (${reason}); tokens are fetched and cached in this process until it is back`,
  redisRecovered: () => `Redis token store reachable again; sharing tokens across replicas resumed`,
};
