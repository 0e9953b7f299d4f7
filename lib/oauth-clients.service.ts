import { Inject, Injectable, type LoggerService } from '@nestjs/common';
import { OAuthClientRegistry } from './config/client-registry.js';
import { modulePolicyOf, resolveClient } from './config/resolve-clients.js';
import { configMessages } from './errors/messages.js';
import { OAuthConfigError } from './errors/oauth-config.error.js';
import type { OAuthClientOptions } from './interfaces/client-options.interface.js';
import type { OAuthModuleOptions } from './interfaces/oauth-module-options.interface.js';
import { LOG_CONTEXT, OAUTH_LOGGER } from './oauth.constants.js';
import { OAUTH_MODULE_OPTIONS } from './oauth.module-definition.js';
import { logMessages } from './observability/log-messages.js';
import { StrategyResolver } from './strategies/strategy-resolver.js';
import { TokenService } from './token.service.js';

/** Options of `OAuthClients.add`. */
export interface AddClientOptions {
  /** Replace a client of the same name (its tokens are dropped) instead of rejecting. Default false. */
  replace?: boolean;
}

/**
 * The module's clients while the app runs: add one (a tenant, a partner account), replace it,
 * remove it. A client added here is validated exactly as at boot and is like one configured
 * there: `getToken(name)`, `{ oauth: name }`, and its `attachTo` on every transport (HttpService,
 * `OAuthFetch`, undici) from the moment `add` resolves. Calls for one name run in call order.
 */
@Injectable()
export class OAuthClients {
  /** Per name, the last add/remove not yet settled: the next one for that name waits for it. */
  private readonly pending = new Map<string, Promise<unknown>>();

  /** @internal Created by Nest; its dependencies are not part of the public API. */
  constructor(
    private readonly registry: OAuthClientRegistry,
    private readonly strategies: StrategyResolver,
    private readonly tokens: TokenService,
    @Inject(OAUTH_MODULE_OPTIONS) private readonly options: OAuthModuleOptions,
    @Inject(OAUTH_LOGGER) private readonly logger: LoggerService,
  ) {}

  /**
   * Adds a client under `name`. Invalid options reject with an `OAuthConfigError` naming the client
   * and the option (every problem in `issues`), as at boot; so does an existing name, unless
   * `{ replace: true }`, which swaps the client and drops the old one's tokens (here and in a
   * shared store). A token request in flight for the old client completes, but its token is kept
   * nowhere.
   */
  add(name: string, options: OAuthClientOptions, addOptions: AddClientOptions = {}): Promise<void> {
    const replace = addOptions.replace === true;
    if (typeof name !== 'string' || name.length === 0) {
      return Promise.reject(new OAuthConfigError(configMessages.invalidClientName(), undefined, 'name'));
    }
    return this.serial(name, async () => {
      if (!replace && this.registry.has(name)) {
        throw new OAuthConfigError(configMessages.clientExists(name), name, 'name');
      }
      const resolveStrategy = (client: string, strategy: OAuthClientOptions['strategy']) =>
        this.strategies.resolve(client, strategy);
      const client = await resolveClient(name, options, modulePolicyOf(this.options), resolveStrategy, this.logger);
      const previous = this.registry.peek(name);
      if (previous !== undefined && !replace)
        throw new OAuthConfigError(configMessages.clientExists(name), name, 'name');
      this.registry.set(client);
      this.warnSharedPrefixes(name);
      if (previous !== undefined) await this.tokens.dropClient(name);
      this.logger.log(logMessages.clientAdded(name, previous !== undefined), LOG_CONTEXT);
    });
  }

  /**
   * Removes a client: from the moment this is called its `attachTo` matches nothing and its name
   * is unknown (`OAuthConfigError`) on every transport; its tokens are dropped here and in a shared
   * store. A token request in flight for it completes, but its callers get an `OAuthConfigError`
   * and its token is kept nowhere. An unknown name rejects with `OAuthConfigError`.
   */
  remove(name: string): Promise<void> {
    return this.serial(name, async () => {
      if (!this.registry.delete(name)) throw new OAuthConfigError(configMessages.unknownClient(name), name);
      await this.tokens.dropClient(name);
      this.logger.log(logMessages.clientRemoved(name), LOG_CONTEXT);
    });
  }

  /** Whether a client of that name exists (configured at boot or added here). */
  has(name: string): boolean {
    return this.registry.has(name);
  }

  /** Every client's name, boot ones first, then in the order they were added. */
  names(): string[] {
    return this.registry.names();
  }

  /** The added client's `attachTo` prefixes that another client has too (the first configured one wins). */
  private warnSharedPrefixes(name: string): void {
    for (const conflict of this.tokens.participant.conflicts) {
      if (!conflict.clients.includes(name)) continue;
      this.logger.warn(logMessages.sharedPrefix(conflict.clients, `${conflict.origin}${conflict.path}`), LOG_CONTEXT);
    }
  }

  /** Runs `work` after the earlier calls for `name` settled; at once (synchronously) when there are none. */
  private serial(name: string, work: () => Promise<void>): Promise<void> {
    const previous = this.pending.get(name);
    const run = previous === undefined ? work() : previous.then(work, work);
    const settled = run.catch(() => undefined);
    this.pending.set(name, settled);
    void settled.then(() => {
      if (this.pending.get(name) === settled) this.pending.delete(name);
    });
    return run;
  }
}
