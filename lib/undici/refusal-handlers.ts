import type { Dispatcher } from 'undici';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import type { CarriedCall, Verdict } from './carried-call.js';

type Handler = Dispatcher.DispatchHandler;
type Controller = Dispatcher.DispatchController;

/**
 * Remembers a call whose answer is a redirect: undici's redirect interceptor sends the next hop
 * with the same handler, and that hop is judged by the first one.
 */
export interface HopLog {
  remember(handler: Handler, call: CarriedCall, token: AccessToken): void;
}

const isRedirect = (statusCode: number) => statusCode >= 300 && statusCode < 400;

/**
 * Watches the answer to a call that carried our token, in undici's handler API: a 401 the rules
 * allow to retry is swallowed and the call sent once more with a fresh token; anything else
 * passes through untouched.
 */
export class RefusalHandler implements Handler {
  private swallowing: Verdict = 'pass';

  constructor(
    private readonly call: CarriedCall,
    private readonly token: AccessToken,
    private readonly handler: Handler,
    private readonly hops: HopLog,
  ) {}

  onRequestStart(controller: Controller, context: unknown): void {
    this.handler.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: Controller, statusCode: number, headers: never, socket: never): void {
    this.handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    if (isRedirect(statusCode)) this.hops.remember(this.handler, this.call, this.token);
    if (this.call.watches(statusCode)) this.swallowing = this.call.judge(statusCode, parsedLookup(headers), this.token);
    if (this.swallowing === 'pass')
      this.handler.onResponseStart?.(controller, statusCode, headers as never, statusMessage);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.swallowing === 'pass') this.handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Controller, trailers: never): void {
    if (this.swallowing === 'pass') return this.handler.onResponseEnd?.(controller, trailers);
    if (this.swallowing === 'resend') return this.call.resend(this.token, this.handler, this.hops);
    const fail = (error: Error) => this.handler.onResponseError?.(controller, error);
    this.call.retry(this.token, this.handler, fail, this.hops);
  }

  onResponseError(controller: Controller, error: Error): void {
    this.handler.onResponseError?.(controller, error);
  }
}

/**
 * The same, in undici's older callback API (`onConnect`, `onHeaders`, …), for callers that use it
 * (`request`, `fetch`): handing the Agent a handler of the API it speaks spares the translation
 * undici otherwise does on every response (it parses the raw headers into an object for it).
 */
export class LegacyRefusalHandler implements Handler {
  private swallowing: Verdict = 'pass';

  constructor(
    private readonly call: CarriedCall,
    private readonly token: AccessToken,
    private readonly handler: Handler,
    private readonly hops: HopLog,
  ) {}

  onConnect(abort: (error?: Error) => void, context?: unknown): void {
    (this.handler.onConnect as (abort: (error?: Error) => void, context?: unknown) => void)(abort, context);
  }

  onResponseStarted(): void {
    this.handler.onResponseStarted?.();
  }

  onUpgrade(statusCode: number, headers: Buffer[] | string[] | null, socket: never): void {
    this.handler.onUpgrade?.(statusCode, headers, socket);
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    if (isRedirect(statusCode)) this.hops.remember(this.handler, this.call, this.token);
    if (this.call.watches(statusCode)) this.swallowing = this.call.judge(statusCode, rawLookup(headers), this.token);
    if (this.swallowing !== 'pass') return true;
    return this.handler.onHeaders?.(statusCode, headers, resume, statusText) ?? true;
  }

  onData(chunk: Buffer): boolean {
    return this.swallowing !== 'pass' || (this.handler.onData?.(chunk) ?? true);
  }

  onComplete(trailers: string[] | null): void {
    if (this.swallowing === 'pass') return this.handler.onComplete?.(trailers);
    if (this.swallowing === 'resend') return this.call.resend(this.token, this.handler, this.hops);
    this.call.retry(this.token, this.handler, (error) => this.handler.onError?.(error), this.hops);
  }

  onError(error: Error): void {
    this.handler.onError?.(error);
  }

  onBodySent(chunkSize: number, totalBytesSent: number): void {
    this.handler.onBodySent?.(chunkSize, totalBytesSent);
  }

  onRequestSent(): void {
    (this.handler as { onRequestSent?(): void }).onRequestSent?.();
  }
}

/**
 * A handler speaking the older API wherever `handler` speaks it: a `request` or `fetch` handler, and
 * the WrapHandler that undici's `compose` puts around one (it speaks both, and passes the older
 * calls straight through). The Agent then translates nothing: with the newer API it would parse
 * every response's raw headers into an object, and WrapHandler would turn them back into Buffers.
 */
export function refusalHandler(call: CarriedCall, token: AccessToken, handler: Handler, hops: HopLog): Handler {
  return typeof handler.onHeaders === 'function'
    ? new LegacyRefusalHandler(call, token, handler, hops)
    : new RefusalHandler(call, token, handler, hops);
}

/** Header lookup over undici's parsed headers (the handler API). */
function parsedLookup(headers: Record<string, string | string[] | undefined>) {
  return (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
}

/** Header lookup over undici's raw header pairs (the older callback API), read only when asked. */
function rawLookup(raw: Buffer[]) {
  return (name: string) => {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      if (raw[i]!.toString('latin1').toLowerCase() === name) return raw[i + 1]!.toString('latin1');
    }
    return undefined;
  };
}
