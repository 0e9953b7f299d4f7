import { Injectable, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { OAuthConfigError } from '../errors/oauth-config.error.js';
import { configMessages } from '../errors/messages.js';
import type { OAuthClientOptions } from '../interfaces/client-options.interface.js';
import {
  BUILT_IN_STRATEGIES,
  BUILT_IN_STRATEGY_NAMES,
  isBuiltInStrategyName,
  type BuiltInStrategyName,
} from './built-in-strategies.js';
import type { TokenStrategy } from './token-strategy.interface.js';

/**
 * Turns a client's `strategy` option into an instance: built-ins by name, user classes through
 * Nest DI (an existing provider anywhere in the app, else created in OAuthModule's context).
 */
@Injectable()
export class StrategyResolver {
  private readonly builtIns = new Map<string, TokenStrategy>();

  constructor(private readonly moduleRef: ModuleRef) {}

  async resolve(client: string, strategy: OAuthClientOptions['strategy']): Promise<TokenStrategy> {
    if (isBuiltInStrategyName(strategy)) return this.builtIn(strategy);
    if (typeof strategy === 'function') return this.fromDi(client, strategy);
    throw new OAuthConfigError(configMessages.unknownStrategy(client, BUILT_IN_STRATEGY_NAMES), client, 'strategy');
  }

  private builtIn(name: BuiltInStrategyName): TokenStrategy {
    const cached = this.builtIns.get(name);
    if (cached) return cached;
    const instance = new BUILT_IN_STRATEGIES[name]() as TokenStrategy;
    this.builtIns.set(name, instance);
    return instance;
  }

  private async fromDi(client: string, strategyClass: Type<TokenStrategy>): Promise<TokenStrategy> {
    try {
      return this.moduleRef.get(strategyClass, { strict: false });
    } catch {
      // Not registered anywhere: create it here, injecting what OAuthModule can see.
    }
    try {
      return await this.moduleRef.create(strategyClass);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new OAuthConfigError(
        configMessages.unresolvableStrategy(client, strategyClass.name, reason),
        client,
        'strategy',
      );
    }
  }
}
