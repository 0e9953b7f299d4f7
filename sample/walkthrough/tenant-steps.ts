import { randomBytes } from 'node:crypto';
import { fingerprint as fp, OAuthConfigError, type OAuthClients, type TokenService } from 'nestjs-client-credentials';
import type { Emulator, EmulatorRequest } from 'nestjs-client-credentials/testing';
import type { MerchantConnections } from '../tenants/merchant-connections.service.js';
import { clientNameOf, type PartnerAccount, secretPathOf } from '../tenants/merchants.js';
import type { SecretVault } from '../tenants/secret-vault.js';
import { failed, passed, type StepResult } from './step-result.js';

/** The merchants of one partner API, each a client added at runtime, and the emulated partner. */
export interface TenantContext {
  connections: MerchantConnections;
  clients: OAuthClients;
  tokens: TokenService;
  vault: SecretVault;
  /** The partner's one host, each merchant's client registered on it, each account under `/merchants/`. */
  partner: Emulator<'oauth2'>;
}

export const CALLS_PER_MERCHANT = 10;
const check = (title: string, ok: boolean, ...details: string[]) => (ok ? passed : failed)(title, ...details);

/** Who the partner says a token belongs to: the `clientId` its API answers a call with. */
const callerOf = (body: unknown): string | undefined => {
  const clientId = (body as { clientId?: unknown } | null)?.clientId;
  return typeof clientId === 'string' ? clientId : undefined;
};

/** The token a call carried, as `Bearer 3kdP0aVqR1xy…` (a fingerprint, never the token). */
const shown = (authorization: string | undefined) => {
  if (authorization === undefined) return 'no token';
  const [scheme = '', token = ''] = authorization.split(' ');
  return `${scheme} ${fp(token)}…`;
};

const hostAndPath = (url: string) => url.replace(/^\w+:\/\//, '');
/** The calls the partner received at the merchant's account (`/merchants/<account>/…`), in order. */
const callsTo = ({ partner }: TenantContext, { apiUrl }: PartnerAccount): EmulatorRequest[] => {
  const prefix = `${new URL(apiUrl).pathname}/`;
  return partner.resourceRequests.filter((r) => r.path.startsWith(prefix));
};
/** The token requests the partner granted to the merchant's client. */
const grantedTo = ({ partner }: TenantContext, { clientId }: PartnerAccount) =>
  partner.tokenRequests.filter((r) => r.clientId === clientId).length;
/** The tokens the partner issued to the merchant's client, oldest first. */
const issuedTo = ({ partner }: TenantContext, { clientId }: PartnerAccount) =>
  partner.issuedTokens.filter((t) => t.clientId === clientId);

/** Three merchants connect: `OAuthClients.add` while the app runs; no token is fetched until a call needs one. */
export async function addTenants(context: TenantContext): Promise<StepResult> {
  const { connections, clients } = context;
  const accounts = connections.all();
  const [clientsBefore, tokenRequests] = [clients.names().length, context.partner.tokenRequests.length];
  for (const account of accounts) await connections.connect(account);
  const added = accounts.filter((account) => connections.isConnected(account)).length;
  const fetched = context.partner.tokenRequests.length - tokenRequests;
  return check(
    'add tenants',
    added === accounts.length && clients.names().length === clientsBefore + added && fetched === 0,
    `OAuthClients.add × ${added} → ${clients.names().length} clients, ${fetched} token requests`,
    ...accounts.map(({ merchant, apiUrl }) => `${clientNameOf(merchant)} → ${hostAndPath(apiUrl)}`),
    `clientSecret: () => vault.read('partner/<merchant>')`,
  );
}

/**
 * Every merchant's calls at once, interleaved: each carries its own merchant's token (the partner
 * answers with the client id the token was issued to, and takes at each account only its client's
 * tokens), and each merchant needs one token request.
 */
export async function ownTokens(context: TenantContext): Promise<StepResult> {
  const { connections, vault, partner } = context;
  const accounts = connections.all();
  const tokenRequests = partner.tokenRequests.length;
  const before = accounts.map((account) => ({
    granted: grantedTo(context, account),
    calls: callsTo(context, account).length,
  }));
  const vaultReads = () => accounts.reduce((sum, { merchant }) => sum + vault.reads(secretPathOf(merchant)), 0);
  const reads = vaultReads();
  const results = await Promise.all(
    Array.from({ length: CALLS_PER_MERCHANT }, () => accounts.map((account) => connections.ping(account))).flat(),
  );
  const perMerchant = accounts.map((account, index) => {
    const answers = results.filter((_, i) => i % accounts.length === index);
    const callers = [...new Set(answers.map((r) => callerOf(r.body) ?? `HTTP ${r.status}`))];
    const seen = callsTo(context, account).slice(before[index]!.calls);
    const sent = [...new Set(seen.map((r) => r.headers.authorization))];
    // The partner took every call at the account as the merchant's client, by a token issued to that client.
    const own =
      sent.length === 1 &&
      seen.every((r) => r.clientId === account.clientId) &&
      issuedTo(context, account).some((t) => sent[0] === `Bearer ${t.accessToken}`);
    const granted = grantedTo(context, account) - before[index]!.granted;
    const served = answers.filter((r) => r.status === 200 && callerOf(r.body) === account.clientId).length;
    const line = `${account.merchant.id.padEnd(8)} ${served} × 200 as ${callers.join(', ')}, ${shown(sent[0])}`;
    return { ok: own && granted === 1 && served === CALLS_PER_MERCHANT, token: sent[0], line };
  });
  const fetched = partner.tokenRequests.length - tokenRequests;
  const read = vaultReads() - reads;
  const distinct = new Set(perMerchant.map((m) => m.token)).size === accounts.length;
  return check(
    'own tokens',
    perMerchant.every((m) => m.ok) && distinct && fetched === accounts.length && read === fetched,
    `${results.length} calls at once (${CALLS_PER_MERCHANT} per merchant), ${fetched} token requests`,
    ...perMerchant.map((m) => m.line),
    `secrets read from the vault ${read}× (once per token request)`,
  );
}

/**
 * The partner rotates a merchant's secret and revokes its tokens; the vault gets the new secret.
 * The next call's 401 brings a token request that reads the new secret: nothing to tell the library.
 */
export async function rotatedSecret(context: TenantContext): Promise<StepResult> {
  const { connections, vault, partner } = context;
  const account = connections.all()[1]!;
  const { merchant, clientId } = account;
  const secret = randomBytes(18).toString('base64url');
  partner.registerClient({ clientId, clientSecret: secret });
  vault.write(secretPathOf(merchant), secret);
  for (const { accessToken } of issuedTo(context, account)) partner.revoke(accessToken);
  const [reads, tokenRequests, calls] = [
    vault.reads(secretPathOf(merchant)),
    partner.tokenRequests.length,
    callsTo(context, account).length,
  ];
  const call = await connections.ping(account);
  const read = vault.reads(secretPathOf(merchant)) - reads;
  const fetched = partner.tokenRequests.length - tokenRequests;
  const sent = callsTo(context, account).length - calls;
  return check(
    'secret rotated',
    call.status === 200 && callerOf(call.body) === clientId && read === 1 && fetched === 1 && sent === 2,
    `${merchant.id}: new secret at the partner and in the vault`,
    `its tokens revoked → 401 → vault read ${read}× → ${fetched} token request`,
    `→ ${sent - 1} retry → ${call.status}, no setCredentials, no restart`,
  );
}

/** A merchant disconnects: `OAuthClients.remove`; its calls go out without a token, its token is gone. */
export async function removeTenant(context: TenantContext): Promise<StepResult> {
  const { connections, clients, tokens } = context;
  const accounts = connections.all();
  const [removed, others] = [accounts.at(-1)!, accounts.slice(0, -1)];
  const name = clientNameOf(removed.merchant);
  await connections.disconnect(removed);
  const calls = callsTo(context, removed).length;
  const call = await connections.ping(removed);
  const sent = callsTo(context, removed)
    .slice(calls)
    .map((r) => r.headers.authorization);
  const unsent = sent.length === 1 && sent[0] === undefined;
  const error = await tokens.getToken(name).then(
    () => undefined,
    (e: unknown) => e,
  );
  const othersServed = await Promise.all(
    others.map(async (account) => {
      const result = await connections.ping(account);
      return result.status === 200 && callerOf(result.body) === account.clientId;
    }),
  );
  const stillServed = othersServed.every(Boolean);
  return check(
    'remove tenant',
    !clients.has(name) && call.status === 401 && unsent && error instanceof OAuthConfigError && stillServed,
    `OAuthClients.remove('${name}') → ${clients.names().length} clients`,
    `${removed.merchant.id}'s call → ${call.status}, ${unsent ? 'sent without Authorization' : `sent with ${shown(sent[0])}`}`,
    `getToken('${name}') → ${error instanceof OAuthConfigError ? 'OAuthConfigError' : 'no error'}`,
    `${others.map((a) => a.merchant.id).join(', ')} → ${stillServed ? '200, each with its own token' : 'not all served'}`,
  );
}

/** The merchant connects again: its old token was dropped with its client, so one new token request. */
export async function reconnectTenant(context: TenantContext): Promise<StepResult> {
  const { connections } = context;
  const account = connections.all().at(-1)!;
  const old = issuedTo(context, account).at(-1)?.accessToken;
  const [tokenRequests, calls] = [context.partner.tokenRequests.length, callsTo(context, account).length];
  await connections.connect(account);
  const call = await connections.ping(account);
  const fetched = context.partner.tokenRequests.length - tokenRequests;
  const [sent] = callsTo(context, account)
    .slice(calls)
    .map((r) => r.headers.authorization);
  const fresh = sent !== undefined && sent !== `Bearer ${old}`;
  return check(
    'reconnect',
    call.status === 200 && callerOf(call.body) === account.clientId && fetched === 1 && fresh,
    `add again → ${fetched} token request, ${fresh ? 'a new token (old one dropped)' : 'the old token'}`,
    `${account.merchant.id} → ${call.status} as ${callerOf(call.body) ?? 'nobody'}, ${shown(sent)}`,
  );
}

export const TENANT_STEPS = [addTenants, ownTokens, rotatedSecret, removeTenant, reconnectTenant];
