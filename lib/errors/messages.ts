/** Every error message in one place, so their wording stays consistent and secret-free. */
import type { TokenRequestErrorDetails } from './token-request.error.js';

const quote = (client: string | undefined) => (client === undefined ? 'OAuthModule' : `OAuth client "${client}"`);

export const configMessages = {
  invalidOption: (client: string | undefined, field: string, problem: string) =>
    `${quote(client)}: option "${field}" ${problem}.`,
  unknownClient: (client: string) =>
    `Unknown OAuth client "${client}": it is not among the clients given to OAuthModule.forRoot() ` +
    'or added with OAuthClients.add().',
  clientExists: (client: string) =>
    `OAuth client "${client}" already exists: remove it first, or add it with { replace: true }.`,
  clientRemoved: (client: string) =>
    `OAuth client "${client}" was removed while its token was being fetched; the token was dropped.`,
  invalidClientName: () => 'OAuthClients.add(): the client name must be a non-empty string.',
  unknownStrategy: (client: string, builtIns: readonly string[]) =>
    `${quote(client)}: option "strategy" must be one of ${builtIns.join(', ')} or a strategy class.`,
  unresolvableStrategy: (client: string, className: string, reason: string) =>
    `${quote(client)}: option "strategy" class ${className} could not be created through Nest DI (${reason}). ` +
    'Register it as a provider, or make its dependencies visible to OAuthModule ' +
    '(global modules or forRootAsync({ imports })).',
  noClients: () => `OAuthModule: option "clients" must name at least one client.`,
  /** One line per problem; a single problem reads as it always has. */
  invalidOptions: (problems: readonly string[]) =>
    problems.length === 1
      ? problems[0]!
      : `OAuthModule options have ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
};

export function tokenRequestMessage(d: TokenRequestErrorDetails): string {
  const facts = [
    d.status === undefined ? undefined : `HTTP ${d.status}`,
    d.providerCode === undefined ? undefined : `provider code ${d.providerCode}`,
    d.retryAfterMs === undefined ? undefined : `retry after ${d.retryAfterMs} ms`,
    `${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`,
  ].filter(Boolean);
  const description = d.description ? `: ${d.description}` : '';
  return `Token request for OAuth client "${d.client}" failed with ${d.code} (${facts.join(', ')})${description}`;
}
