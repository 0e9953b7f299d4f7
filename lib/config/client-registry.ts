import { attachRules } from '../common/attach-rules.js';
import { OAuthConfigError } from '../errors/oauth-config.error.js';
import { configMessages } from '../errors/messages.js';
import type { ResolvedClient } from './resolved-client.js';

/**
 * The module's clients by name: those configured at boot and those added at runtime
 * (`OAuthClients`). Unknown names are a typed error naming the client.
 */
export class OAuthClientRegistry {
  private readonly byName: Map<string, ResolvedClient>;
  /** Moves on every change, so that what is derived from the clients (the attachTo rules) is rebuilt. */
  private changes = 0;

  constructor(clients: readonly ResolvedClient[]) {
    this.byName = new Map(clients.map((client) => [client.name, client]));
  }

  get revision(): number {
    return this.changes;
  }

  /** The client of that name, or `undefined` (no error): to tell whether a client is still the current one. */
  peek(name: string): ResolvedClient | undefined {
    return this.byName.get(name);
  }

  /** Adds a client, or replaces the one of the same name (which keeps its place in the order). */
  set(client: ResolvedClient): void {
    this.byName.set(client.name, client);
    this.changed();
  }

  /** Removes a client; `false` when there was none of that name. */
  delete(name: string): boolean {
    if (!this.byName.delete(name)) return false;
    this.changed();
    return true;
  }

  private changed(): void {
    this.changes++;
    attachRules.generation++;
  }

  get(name: string): ResolvedClient {
    const client = this.byName.get(name);
    if (client === undefined) throw new OAuthConfigError(configMessages.unknownClient(name), name);
    return client;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): IterableIterator<ResolvedClient> {
    return this.byName.values();
  }
}
