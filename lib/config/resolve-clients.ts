import type { LoggerService } from '@nestjs/common';
import { OAuthConfigError } from '../errors/oauth-config.error.js';
import { configMessages } from '../errors/messages.js';
import type { OAuthClientOptions, RetryOptions } from '../interfaces/client-options.interface.js';
import type { OAuthModuleOptions } from '../interfaces/oauth-module-options.interface.js';
import type { ConfigIssue, TokenStrategy } from '../strategies/token-strategy.interface.js';
import { joinUrl } from '../strategies/strategy-helpers.js';
import { ClientSchema, PolicySchema, RetrySchema } from './options.schema.js';
import { DEFAULT_POLICY, normalizeScope, type ResolvedClient, type TokenPolicy } from './resolved-client.js';
import { schemaIssues } from './validate-options.js';

export type StrategyResolver = (client: string, strategy: OAuthClientOptions['strategy']) => Promise<TokenStrategy>;

function fail(client: string | undefined, issue: ConfigIssue): never {
  throw new OAuthConfigError(configMessages.invalidOption(client, issue.field, issue.problem), client, issue.field);
}

function policyIssues(options: object): ConfigIssue[] {
  const retry = (options as { retry?: unknown }).retry;
  const retryIssues = typeof retry === 'object' && retry !== null ? schemaIssues(RetrySchema, retry, 'retry.') : [];
  return [...schemaIssues(PolicySchema, options), ...retryIssues];
}

function mergePolicy(base: TokenPolicy, overrides: OAuthModuleOptions | OAuthClientOptions): TokenPolicy {
  const skewMs = overrides.skewSeconds === undefined ? base.skewMs : overrides.skewSeconds * 1000;
  const defaultTtlMs = overrides.defaultTtlSeconds === undefined ? base.defaultTtlMs : overrides.defaultTtlSeconds * 1000;
  const retry: RetryOptions = { ...base.retry };
  for (const [key, value] of Object.entries(overrides.retry ?? {})) {
    if (value !== undefined) retry[key as keyof RetryOptions] = value;
  }
  return { skewMs, defaultTtlMs, timeoutMs: overrides.timeoutMs ?? base.timeoutMs, retry };
}

function tokenUrlOf(name: string, options: OAuthClientOptions, strategy: TokenStrategy): string {
  if (options.tokenUrl !== undefined) return options.tokenUrl;
  const base = options.baseUrl ?? strategy.defaultBaseUrl;
  if (base === undefined) {
    fail(name, { field: 'baseUrl', problem: 'or "tokenUrl" is required: this strategy has no default host' });
  }
  return joinUrl(base, strategy.tokenPath);
}

/**
 * Validates the module options and turns each client into a `ResolvedClient`.
 * Throws `OAuthConfigError` for the first bad field, naming the client and the option key.
 */
export async function resolveClients(
  options: OAuthModuleOptions,
  resolveStrategy: StrategyResolver,
  logger: LoggerService,
): Promise<ResolvedClient[]> {
  if (typeof options?.clients !== 'object' || options.clients === null || Object.keys(options.clients).length === 0) {
    throw new OAuthConfigError(configMessages.noClients(), undefined, 'clients');
  }
  const moduleIssue = policyIssues(options)[0];
  if (moduleIssue) fail(undefined, moduleIssue);
  const modulePolicy = mergePolicy(DEFAULT_POLICY, options);

  const resolved: ResolvedClient[] = [];
  for (const [name, clientOptions] of Object.entries(options.clients)) {
    if (typeof clientOptions !== 'object' || clientOptions === null) fail(name, { field: 'clients', problem: 'must be an object' });
    const issue = schemaIssues(ClientSchema, clientOptions)[0] ?? policyIssues(clientOptions)[0];
    if (issue) fail(name, issue);

    const strategy = await resolveStrategy(name, clientOptions.strategy);
    const strategyIssue = strategy.validateOptions?.(clientOptions)[0];
    if (strategyIssue) fail(name, strategyIssue);

    const scope = normalizeScope(clientOptions.scope);
    if (scope.length > 0 && strategy.sendsScope === false) {
      logger.warn(`OAuth client "${name}": option "scope" is ignored, the ${String(clientOptions.strategy)} token endpoint takes no scope.`);
    }
    resolved.push({
      name,
      options: clientOptions,
      strategy,
      tokenUrl: tokenUrlOf(name, clientOptions, strategy),
      attachTo: clientOptions.attachTo ?? (clientOptions.baseUrl === undefined ? [] : [clientOptions.baseUrl]),
      scope,
      policy: mergePolicy(modulePolicy, clientOptions),
      credentials: { clientId: clientOptions.clientId, clientSecret: clientOptions.clientSecret },
    });
  }
  return resolved;
}
