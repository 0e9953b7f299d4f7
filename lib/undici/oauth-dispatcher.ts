import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Agent, Dispatcher } from 'undici';
import { TokenService } from '../token.service.js';
import { UndiciBearer } from './undici-bearer.js';

/**
 * An undici `Dispatcher` with this module's tokens: `request(url, { dispatcher })`, undici's
 * `fetch(url, { dispatcher })`, or `setGlobalDispatcher(oauthDispatcher)`. List it as a provider
 * of a module that can inject `TokenService`; it closes its connections when the app closes.
 */
@Injectable()
export class OAuthDispatcher extends Dispatcher implements OnModuleDestroy {
  private readonly agent = new Agent();
  private readonly bearer: UndiciBearer;
  /** Straight to the Agent, not through `compose`, which would wrap every handler twice. */
  private readonly agentDispatch: Dispatcher.Dispatch = this.agent.dispatch.bind(this.agent);
  /** Closing twice (the app, and the app's own `close()` call) must not throw. */
  private closing: Promise<void> | undefined;

  constructor(tokens: TokenService) {
    super();
    this.bearer = new UndiciBearer(tokens);
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.bearer.dispatch(this.agentDispatch, options, handler);
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
