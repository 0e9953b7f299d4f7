import { OAuthConfigError } from '../errors/oauth-config.error.js';
import { configMessages } from '../errors/messages.js';
import type { ResolvedClient } from './resolved-client.js';

/** The module's clients by name. Unknown names are a typed error naming the client. */
export class OAuthClientRegistry {
  private readonly byName: ReadonlyMap<string, ResolvedClient>;

  constructor(clients: readonly ResolvedClient[]) {
    this.byName = new Map(clients.map((client) => [client.name, client]));
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
