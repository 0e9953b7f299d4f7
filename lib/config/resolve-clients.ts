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

  /** The configuration error a strategy resolver threw, as issues of this list. */
  addError(error: OAuthConfigError): void {
    this.issues.push(...error.issues);
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
  const modulePolicy = mergePolicy(DEFAULT_POLICY, options);

  const resolved: ResolvedClient[] = [];
  for (const [name, clientOptions] of Object.entries(options.clients)) {
    if (typeof clientOptions !== 'object' || clientOptions === null) {
      problems.add(name, { field: 'clients', problem: 'must be an object' });
      continue;
    }
    // ClientSchema extends PolicySchema: the per-client overrides are checked with it.
    const schemaProblems = [...schemaIssues(ClientSchema, clientOptions), ...nestedIssues(clientOptions)];
    problems.add(name, ...schemaProblems);

    let strategy: TokenStrategy;
    try {
      strategy = await resolveStrategy(name, clientOptions.strategy);
    } catch (error) {
      if (!(error instanceof OAuthConfigError)) throw error;
      problems.add(name, ...secretIssues(clientOptions, true));
      problems.addError(error);
      continue;
    }
    const policy = mergePolicy(modulePolicy, clientOptions);
    const issuer = issuerOf(clientOptions);
    // How the client authenticates decides whether it needs a secret; keys are read here, once.
    const clientAuth = resolveClientAuth(clientOptions, strategy.authMethods, { tls: policy.transport.tls, issuer });
    problems.add(name, ...clientAuth.issues, ...secretIssues(clientOptions, clientAuth.auth.secretRequired));
    // The strategy declares what it validates (a schema, then checks a schema cannot express).
    const optionsSchema = strategy.optionsSchema;
    if (optionsSchema !== undefined) problems.add(name, ...schemaIssues(optionsSchema, clientOptions));
    problems.add(name, ...(strategy.validateOptions?.(clientOptions) ?? []));
    if (schemaProblems.some((issue) => ['baseUrl', 'tokenUrl', 'issuer'].includes(issue.field))) continue;
    const tokenUrl = issuer === undefined ? tokenUrlOf(clientOptions, strategy) : undefined;
    if (typeof tokenUrl === 'object') problems.add(name, tokenUrl);
    if (issuer !== undefined && clientOptions.tokenUrl !== undefined) {
      const problem = 'and "tokenUrl" are both set: with an issuer the token endpoint comes from its metadata';
      problems.add(name, { field: 'issuer', problem });
    }
    if (problems.issues.length > 0) continue; // nothing below is worth building for a module that will not boot

    const warnings = [...bootWarnings(name, clientOptions, strategy), ...clientAuth.warnings.map((w) => said(name, w))];
    for (const warning of warnings) logger.warn(warning);
    resolved.push({
      name,
      options: clientOptions,
      strategy,
      tokenUrl: tokenUrl as string | undefined,
      ...(issuer === undefined ? {} : { issuer: new IssuerEndpoint(issuer, hasClientCertificate(policy.transport)) }),
      auth: clientAuth.auth,
      attachTo: clientOptions.attachTo ?? (clientOptions.baseUrl === undefined ? [] : [clientOptions.baseUrl]),
      scope: normalizeScope(clientOptions.scope),
      policy,
      credentials: { clientId: clientOptions.clientId, clientSecret: clientOptions.clientSecret ?? '' },
    });
  }
  problems.throwIfAny();
  return resolved;
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
