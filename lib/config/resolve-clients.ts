import type { LoggerService } from '@nestjs/common';
import { OAuthConfigError } from '../errors/oauth-config.error.js';
import { configMessages } from '../errors/messages.js';
import type { OAuthClientOptions, RetryOptions } from '../interfaces/client-options.interface.js';
import type { OAuthModuleOptions } from '../interfaces/oauth-module-options.interface.js';
import type { ConfigIssue } from '../common/validation.js';
import type { TokenStrategy } from '../strategies/token-strategy.interface.js';
import type { OAuthConfigIssue } from '../errors/oauth-config.error.js';
import { strategyName } from '../common/strategy-name.js';
import { joinUrl } from '../common/url.js';
import { resolveClientAuth } from '../client-auth/client-auth.js';
import { IssuerEndpoint } from '../client-auth/issuer-endpoint.js';
import { dpopKey } from '../dpop/dpop-key.js';
import { ClientSchema, ClientSecretSchema, ModuleSchema, RetrySchema, TlsSchema } from './options.schema.js';
import {
  DEFAULT_POLICY,
  normalizeScope,
  type ResolvedClient,
  type TokenPolicy,
  type TokenTransport,
} from './resolved-client.js';
import { schemaIssues } from '../common/validation.js';

/** Turns a client's `strategy` option into an instance (the strategies' resolver, given by the module). */
export type ResolveStrategy = (client: string, strategy: OAuthClientOptions['strategy']) => Promise<TokenStrategy>;

/** Every problem found at boot, reported together in one `OAuthConfigError`. */
class IssueList {
  readonly issues: OAuthConfigIssue[] = [];

  add(client: string | undefined, ...issues: ConfigIssue[]): void {
    for (const { field, problem } of issues) this.issues.push({ client, field, problem });
  }

  /** Issues that already name their client (those of a strategy resolver's error). */
  addIssues(issues: readonly OAuthConfigIssue[]): void {
    this.issues.push(...issues);
  }

  throwIfAny(): void {
    if (this.issues.length === 0) return;
    const lines = this.issues.map((i) =>
      i.field === undefined ? i.problem : configMessages.invalidOption(i.client, i.field, i.problem),
    );
    const first = this.issues[0]!;
    throw new OAuthConfigError(configMessages.invalidOptions(lines), first.client, first.field, this.issues);
  }
}

/** The nested option objects every level may carry: `retry` and `tls`. */
function nestedIssues(options: object): ConfigIssue[] {
  const { retry, tls } = options as { retry?: unknown; tls?: unknown };
  return [
    ...(typeof retry === 'object' && retry !== null ? schemaIssues(RetrySchema, retry, 'retry.') : []),
    ...(typeof tls === 'object' && tls !== null ? schemaIssues(TlsSchema, tls, 'tls.') : []),
  ];
}

function mergePolicy(base: TokenPolicy, overrides: OAuthModuleOptions | OAuthClientOptions): TokenPolicy {
  const skewMs = overrides.skewSeconds === undefined ? base.skewMs : overrides.skewSeconds * 1000;
  const defaultTtlMs =
    overrides.defaultTtlSeconds === undefined ? base.defaultTtlMs : overrides.defaultTtlSeconds * 1000;
  const retry: RetryOptions = { ...base.retry };
  for (const [key, value] of Object.entries(overrides.retry ?? {})) {
    if (value !== undefined) retry[key as keyof RetryOptions] = value;
  }
  // tls and proxy replace the inherited ones as a whole: half of one certificate set and half of another is no set.
  const transport = {
    tls: overrides.tls ?? base.transport.tls,
    proxy: overrides.proxy ?? base.transport.proxy,
    proxyFromEnv: overrides.proxyFromEnv ?? base.transport.proxyFromEnv,
  };
  return { skewMs, defaultTtlMs, timeoutMs: overrides.timeoutMs ?? base.timeoutMs, retry, transport };
}

/** `clientSecret`, when the client's authentication needs one (or it is given anyway). */
function secretIssues(options: OAuthClientOptions, required: boolean): ConfigIssue[] {
  return required || options.clientSecret !== undefined ? schemaIssues(ClientSecretSchema, options) : [];
}

/** `issuer` is read for every strategy; only `oauth2` types it (a custom strategy's options may carry it). */
function issuerOf(options: OAuthClientOptions): string | undefined {
  const { issuer } = options as { issuer?: unknown };
  return typeof issuer === 'string' ? issuer : undefined;
}

function tokenUrlOf(options: OAuthClientOptions, strategy: TokenStrategy): string | ConfigIssue {
  if (options.tokenUrl !== undefined) return options.tokenUrl;
  const base = options.baseUrl ?? strategy.defaultBaseUrl;
  if (base === undefined)
    return { field: 'baseUrl', problem: 'or "tokenUrl" is required: this strategy has no default host' };
  return joinUrl(base, strategy.tokenPath);
}

/**
 * Validates the module options and turns each client into a `ResolvedClient`. Every invalid
 * option of every client is reported at once, in one `OAuthConfigError` naming client and key.
 */
export async function resolveClients(
  options: OAuthModuleOptions,
  resolveStrategy: ResolveStrategy,
  logger: LoggerService,
): Promise<ResolvedClient[]> {
  if (typeof options?.clients !== 'object' || options.clients === null || Object.keys(options.clients).length === 0) {
    throw new OAuthConfigError(configMessages.noClients(), undefined, 'clients');
  }
  const problems = new IssueList();
  problems.add(undefined, ...schemaIssues(ModuleSchema, options), ...nestedIssues(options));
  if (Array.isArray(options.warmUp)) {
    for (const name of options.warmUp.filter((n) => typeof n === 'string' && !Object.hasOwn(options.clients, n))) {
      problems.add(undefined, { field: 'warmUp', problem: `names "${name}", which is not among the clients` });
    }
  }
  const modulePolicy = modulePolicyOf(options);

  const resolved: ResolvedClient[] = [];
  for (const [name, clientOptions] of Object.entries(options.clients)) {
    const client = await checkClient(name, clientOptions, modulePolicy, resolveStrategy);
    problems.add(name, ...client.issues);
    problems.addIssues(client.strategyIssues);
    // Nothing is worth building (nor any warning worth logging) for a module that will not boot.
    if (problems.issues.length === 0) resolved.push(client.build!(logger));
  }
  problems.throwIfAny();
  return resolved;
}

/** The module-wide defaults every client inherits (the options were validated at boot). */
export function modulePolicyOf(options: OAuthModuleOptions): TokenPolicy {
  return mergePolicy(DEFAULT_POLICY, options);
}

/**
 * One client, validated exactly as at boot and resolved against the module-wide defaults (for a
 * client added at runtime). Every invalid option is reported at once, in one `OAuthConfigError`
 * naming the client and the key; boot warnings are logged as at boot.
 */
export async function resolveClient(
  name: string,
  clientOptions: OAuthClientOptions,
  modulePolicy: TokenPolicy,
  resolveStrategy: ResolveStrategy,
  logger: LoggerService,
): Promise<ResolvedClient> {
  const client = await checkClient(name, clientOptions, modulePolicy, resolveStrategy);
  const problems = new IssueList();
  problems.add(name, ...client.issues);
  problems.addIssues(client.strategyIssues);
  problems.throwIfAny();
  return client.build!(logger);
}

/** A client's problems, and (when it has none) what builds it. */
interface CheckedClient {
  issues: ConfigIssue[];
  /** Problems a strategy resolver reported, already naming the client. */
  strategyIssues: readonly OAuthConfigIssue[];
  build?: (logger: LoggerService) => ResolvedClient;
}

async function checkClient(
  name: string,
  clientOptions: OAuthClientOptions,
  modulePolicy: TokenPolicy,
  resolveStrategy: ResolveStrategy,
): Promise<CheckedClient> {
  if (typeof clientOptions !== 'object' || clientOptions === null) {
    return { issues: [{ field: 'clients', problem: 'must be an object' }], strategyIssues: [] };
  }
  // ClientSchema extends PolicySchema: the per-client overrides are checked with it.
  const schemaProblems = [...schemaIssues(ClientSchema, clientOptions), ...nestedIssues(clientOptions)];
  const issues = [...schemaProblems];

  let strategy: TokenStrategy;
  try {
    strategy = await resolveStrategy(name, clientOptions.strategy);
  } catch (error) {
    if (!(error instanceof OAuthConfigError)) throw error;
    issues.push(...secretIssues(clientOptions, true));
    return { issues, strategyIssues: error.issues };
  }
  const policy = mergePolicy(modulePolicy, clientOptions);
  const issuer = issuerOf(clientOptions);
  // How the client authenticates decides whether it needs a secret; keys are read here, once.
  const clientAuth = resolveClientAuth(clientOptions, strategy.authMethods, { tls: policy.transport.tls, issuer });
  issues.push(...clientAuth.issues, ...secretIssues(clientOptions, clientAuth.auth.secretRequired));
  // DPoP: the key is read (or made) here, once; its thumbprint joins the cache key.
  const dpop = clientOptions.dpop === undefined ? undefined : dpopKey(clientOptions.dpop);
  if (dpop !== undefined && 'problem' in dpop) issues.push(dpop);
  // The strategy declares what it validates (a schema, then checks a schema cannot express).
  const optionsSchema = strategy.optionsSchema;
  if (optionsSchema !== undefined) issues.push(...schemaIssues(optionsSchema, clientOptions));
  issues.push(...(strategy.validateOptions?.(clientOptions) ?? []));
  if (schemaProblems.some((issue) => ['baseUrl', 'tokenUrl', 'issuer'].includes(issue.field))) {
    return { issues, strategyIssues: [] };
  }
  const tokenUrl = issuer === undefined ? tokenUrlOf(clientOptions, strategy) : undefined;
  if (typeof tokenUrl === 'object') issues.push(tokenUrl);
  if (issuer !== undefined && clientOptions.tokenUrl !== undefined) {
    const problem = 'and "tokenUrl" are both set: with an issuer the token endpoint comes from its metadata';
    issues.push({ field: 'issuer', problem });
  }
  if (issues.length > 0) return { issues, strategyIssues: [] };

  const build = (logger: LoggerService): ResolvedClient => {
    const warnings = [...bootWarnings(name, clientOptions, strategy), ...clientAuth.warnings.map((w) => said(name, w))];
    for (const warning of warnings) logger.warn(warning);
    return {
      name,
      options: clientOptions,
      strategy,
      tokenUrl: tokenUrl as string | undefined,
      ...(issuer === undefined ? {} : { issuer: new IssuerEndpoint(issuer, hasClientCertificate(policy.transport)) }),
      auth: clientAuth.auth,
      ...(dpop === undefined || 'problem' in dpop ? {} : { dpop }),
      attachTo: clientOptions.attachTo ?? (clientOptions.baseUrl === undefined ? [] : [clientOptions.baseUrl]),
      scope: normalizeScope(clientOptions.scope),
      policy,
      credentials: { clientId: clientOptions.clientId, clientSecret: clientOptions.clientSecret ?? '' },
    };
  };
  return { issues, strategyIssues: [], build };
}

/** RFC 8705's mTLS endpoint aliases are for a client that presents a certificate, not one with only a CA. */
function hasClientCertificate({ tls }: TokenTransport): boolean {
  return tls?.pfx !== undefined || tls?.cert !== undefined;
}

/** Options that are accepted but not used as written: said once, at boot. */
function bootWarnings(name: string, options: OAuthClientOptions, strategy: TokenStrategy): string[] {
  const warnings = (strategy.warnings?.(options) ?? []).map((warning) => said(name, warning));
  if (normalizeScope(options.scope).length > 0 && strategy.sendsScope === false) {
    const dialect = strategyName(options.strategy);
    warnings.unshift(
      `OAuth client "${name}": option "scope" is ignored, the ${dialect} token endpoint takes no scope.`,
    );
  }
  return warnings;
}

const said = (client: string, warning: string) => `OAuth client "${client}": ${warning}`;
