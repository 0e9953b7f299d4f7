import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Agent, Dispatcher } from 'undici';
import { TokenService } from '../token.service.js';
import { oauthInterceptor } from './oauth-interceptor.js';

/**
 * An undici `Dispatcher` with this module's tokens: `request(url, { dispatcher })`, undici's
 * `fetch(url, { dispatcher })`, or `setGlobalDispatcher(oauthDispatcher)`. List it as a provider
 * of a module that can inject `TokenService`; it closes its connections when the app closes.
 */
@Injectable()
export class OAuthDispatcher extends Dispatcher implements OnModuleDestroy {
  private readonly agent = new Agent();
  private readonly composed: Dispatcher;
  /** Closing twice (the app, and the app's own `close()` call) must not throw. */
  private closing: Promise<void> | undefined;

  constructor(tokens: TokenService) {
    super();
    this.composed = this.agent.compose(oauthInterceptor(tokens));
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.composed.dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const closed = (this.closing ??= this.agent.close());
    if (callback === undefined) return closed;
    closed.then(callback, callback);
  }

  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(errorOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    if (typeof errorOrCallback === 'function') return this.agent.destroy(errorOrCallback);
    return callback === undefined
      ? this.agent.destroy(errorOrCallback ?? null)
      : this.agent.destroy(errorOrCallback ?? null, callback);
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }
}
