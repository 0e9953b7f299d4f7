import { filter, firstValueFrom } from 'rxjs';
import { TokenRequestError, type OAuthClock, type TokenService } from 'nestjs-client-credentials';
import type { Emulator } from 'nestjs-client-credentials/testing';
import { fingerprint as fp } from 'nestjs-client-credentials';
import { type Provider, usesPrivateKey } from '../providers.js';
import type { UpstreamApi } from '../upstream/upstream-api.js';
import type { Progress } from './progress.js';
import { describeTokenRequest } from './redact.js';
import { failed, passed, type StepResult } from './step-result.js';

export interface StepContext {
  api: UpstreamApi;
  tokens: TokenService;
  emulator: Emulator;
  clock: Required<OAuthClock>;
  progress: Progress;
}

export const CONCURRENT_CALLS = 50;
const SHORT_LIFETIME_SECONDS = 4;
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
const check = (title: string, ok: boolean, ...details: string[]) => (ok ? passed : failed)(title, ...details);

/** The first token: what was sent (secret hidden) and what came back (fingerprint only). */
export async function firstToken({ tokens, emulator, api, clock }: StepContext): Promise<StepResult> {
  const before = emulator.tokenRequests.length;
  const token = await tokens.getToken(api.provider.name);
  const request = emulator.tokenRequests[before];
  const sent = request ? describeTokenRequest(request, emulator.clientSecret) : ['(no request seen)'];
  const got = `→ ${token.tokenType} ${fp(token.accessToken)}…, valid ${seconds(token.expiresAt - clock.now())}`;
  return check('token request', request !== undefined, ...sent, got);
}

/** Many calls at once on a cold cache share one token request. */
export async function concurrentCalls({ tokens, emulator, api }: StepContext): Promise<StepResult> {
  await tokens.invalidate(api.provider.name);
  const before = emulator.tokenRequests.length;
  const results = await Promise.all(Array.from({ length: CONCURRENT_CALLS }, () => api.ping()));
  const tokenRequests = emulator.tokenRequests.length - before;
  const ok = results.filter((r) => r.status === 200).length;
  return check(
    `${CONCURRENT_CALLS} calls`,
    ok === CONCURRENT_CALLS && tokenRequests === 1,
    `${ok} × 200 at once, ${tokenRequests} token request`,
  );
}

/** A short-lived token is replaced in the background while calls keep using it. */
export async function refreshAhead({ tokens, emulator, api, clock, progress }: StepContext): Promise<StepResult> {
  const name = api.provider.name;
  emulator.setTokenLifetime(SHORT_LIFETIME_SECONDS);
  try {
    const short = await tokens.getToken(name, { forceRefresh: true });
    const renewed = firstValueFrom(tokens.token$(name).pipe(filter((t) => t.accessToken !== short.accessToken)));
    // For a token this short the skew is capped at half its life, so the refresh point is at 37.5%.
    await progress.wait(
      0.4 * (short.expiresAt - clock.now()),
      `${name}: letting a ${SHORT_LIFETIME_SECONDS} s token age`,
    );
    const before = emulator.resourceRequests.length;
    const call = await api.ping();
    // `Bearer <token>`, or `DPoP <token>` for a DPoP-bound one.
    const usedOld =
      emulator.resourceRequests[before]?.headers.authorization?.endsWith(` ${short.accessToken}`) === true;
    const next = await withDeadline(renewed, 10_000);
    const margin = short.expiresAt - clock.now();
    return check(
      'refresh ahead',
      call.status === 200 && usedOld && next !== undefined,
      `call served at once with the current token (${call.status})`,
      next ? `new token ${fp(next.accessToken)}… arrived ${seconds(margin)} before expiry` : 'no new token arrived',
    );
  } finally {
    emulator.setTokenLifetime(3600);
    await tokens.getToken(name, { forceRefresh: true });
  }
}

/** A 429 with the provider's retry hint: the library waits as told, then succeeds. */
export async function rateLimited({ tokens, emulator, api, clock }: StepContext): Promise<StepResult> {
  emulator.failNext(api.provider.rateLimited);
  const before = emulator.tokenRequests.length;
  const started = clock.now();
  await tokens.getToken(api.provider.name, { forceRefresh: true });
  const waited = clock.now() - started;
  const requests = emulator.tokenRequests.length - before;
  return check(
    '429 hint',
    requests === 2 && waited >= 900,
    `429 → waited ${seconds(waited)} as told → token (${requests} requests)`,
  );
}

/** The provider revokes our token: one 401, one new token, one retry. */
export async function recover401({ emulator, api }: StepContext): Promise<StepResult> {
  emulator.revoke();
  const [calls, tokensBefore] = [emulator.resourceRequests.length, emulator.tokenRequests.length];
  const result = await api.ping();
  const retried = emulator.resourceRequests.length - calls;
  const fetched = emulator.tokenRequests.length - tokensBefore;
  return check(
    '401 recovery',
    result.status === 200 && retried === 2 && fetched === 1,
    `revoked → 401 → ${fetched} new token, ${retried - 1} retry → ${result.status}`,
  );
}

/** A wrong secret is a typed error that says what happened; the right one works again. */
export async function badSecret({ tokens, emulator, api }: StepContext): Promise<StepResult> {
  const name = api.provider.name;
  await tokens.setCredentials(name, { clientSecret: 'not-the-secret' });
  const error = await tokens.getToken(name).then(
    () => undefined,
    (e: unknown) => e,
  );
  await tokens.setCredentials(name, { clientSecret: emulator.clientSecret });
  const recovered = (await tokens.getToken(name)).accessToken.length > 0;
  if (!(error instanceof TokenRequestError)) return failed('bad secret', 'no TokenRequestError');
  const provider = error.providerCode ? `, provider code ${error.providerCode}` : '';
  return check(
    'bad secret',
    error.code === 'invalid_client' && recovered,
    `TokenRequestError ${error.code}`,
    `HTTP ${error.status}${provider}, not retried`,
    `right secret back (setCredentials) → ${recovered ? 'tokens again' : 'still failing'}`,
  );
}

/** A retried token request signs a new assertion: the server accepts each `jti` once. */
export async function freshAssertion({ tokens, emulator, api }: StepContext): Promise<StepResult> {
  emulator.failNext('temporarily_unavailable');
  const before = emulator.tokenRequests.length;
  await tokens.getToken(api.provider.name, { forceRefresh: true });
  const sent = emulator.tokenRequests.slice(before).map((r) => jtiOf(r.form?.client_assertion));
  const fresh = sent.length === 2 && sent.every((jti) => jti !== undefined) && sent[0] !== sent[1];
  return check(
    'fresh jti',
    fresh,
    `503 → retried with a new assertion → token (${sent.length} requests)`,
    `jti ${sent.map((jti) => `${jti?.slice(0, 8) ?? 'none'}…`).join(' then ')}`,
  );
}

/**
 * The authorization server stops accepting our assertions (here: it no longer knows the client
 * id they are issued for): a typed error, not retried; once it knows the client again, tokens again.
 */
export async function refusedClient({ tokens, emulator, api }: StepContext): Promise<StepResult> {
  const name = api.provider.name;
  const { clientId, clientSecret } = emulator;
  emulator.setCredentials({ clientId: `${clientId}-retired`, clientSecret });
  const before = emulator.tokenRequests.length;
  const error = await tokens.getToken(name, { forceRefresh: true }).then(
    () => undefined,
    (e: unknown) => e,
  );
  const requests = emulator.tokenRequests.length - before;
  emulator.setCredentials({ clientId, clientSecret });
  const recovered = (await tokens.getToken(name, { forceRefresh: true })).accessToken.length > 0;
  if (!(error instanceof TokenRequestError)) return failed('client refused', 'no TokenRequestError');
  return check(
    'client refused',
    error.code === 'invalid_client' && requests === 1 && recovered,
    `TokenRequestError ${error.code}`,
    `HTTP ${error.status}, ${requests === 1 ? 'not retried' : `${requests} requests`}`,
    `client known again → ${recovered ? 'tokens again' : 'still failing'}`,
  );
}

const jtiOf = (assertion: string | undefined): string | undefined => {
  try {
    const claims: unknown = JSON.parse(Buffer.from(assertion?.split('.')[1] ?? '', 'base64url').toString('utf8'));
    const jti = (claims as { jti?: unknown }).jti;
    return typeof jti === 'string' ? jti : undefined;
  } catch {
    return undefined;
  }
};

const SHARED_STEPS = [firstToken, concurrentCalls, refreshAhead, rateLimited, recover401];

/** What is scripted against a provider's emulator: the last steps depend on how its client authenticates. */
export function emulatedSteps(provider: Provider): Array<(context: StepContext) => Promise<StepResult>> {
  return usesPrivateKey(provider) ? [...SHARED_STEPS, freshAssertion, refusedClient] : [...SHARED_STEPS, badSecret];
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Against a real API the sample only shows that a token and a call work. */
export async function firstTokenFromRealApi(tokens: TokenService, api: UpstreamApi): Promise<StepResult> {
  const token = await tokens.getToken(api.provider.name);
  const call = await api.ping();
  return check(
    'token + call',
    call.status < 400,
    `→ ${token.tokenType} ${fp(token.accessToken)}…`,
    `GET ping → ${call.status}`,
  );
}
