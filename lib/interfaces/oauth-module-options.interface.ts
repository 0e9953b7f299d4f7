import type { LoggerService } from '@nestjs/common';
import type { TokenStore } from '../stores/token-store.interface.js';
import type { OAuthClientOptions, TokenPolicyOptions } from './client-options.interface.js';
import type { OAuthClock } from './clock.interface.js';

export interface OAuthModuleOptions extends TokenPolicyOptions {
  /** One entry per upstream API, by the name used in `getToken(name)` and `{ oauth: name }`. */
  clients: Record<string, OAuthClientOptions>;
  /** Shares tokens beyond this process (e.g. `RedisTokenStore`). Default: in-process only. */
  store?: TokenStore;
  /** Nest logger to use; `false` silences the module. Default: a Nest `Logger` with context `OAuth`. */
  logger?: LoggerService | false;
  /** Time source (epoch ms), for tests. Default: `Date.now`. */
  clock?: OAuthClock;
  /**
   * Tokens kept in this process (one per client and scope): past it, the least recently used is
   * dropped, never one whose request is in flight. Default 10 000.
   */
  maxCachedTokens?: number;
  /**
   * OpenTelemetry metrics and spans through `@opentelemetry/api`, when the app has it (an optional
   * peer; register the SDK before the app boots). `false` records nothing. Default true.
   */
  telemetry?: boolean;
  /**
   * Get tokens while the app starts: `true` for every client, or the names of some. A failure is
   * a warning, never a boot failure; boot waits at most the clients' longest `timeoutMs`.
   */
  warmUp?: boolean | string[];
}

export interface OAuthOptionsFactory {
  createOAuthOptions(): OAuthModuleOptions | Promise<OAuthModuleOptions>;
}
