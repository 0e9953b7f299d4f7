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
}

export interface OAuthOptionsFactory {
  createOAuthOptions(): OAuthModuleOptions | Promise<OAuthModuleOptions>;
}
