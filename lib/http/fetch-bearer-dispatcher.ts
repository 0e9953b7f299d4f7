import { withAuthorization, withHeaders, type DispatchHeaders } from './dispatch-headers.js';

/** Where Node's `fetch` (and undici's `setGlobalDispatcher`) keeps the dispatcher calls go to by default. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/** What fetch hands its dispatcher: the request's options (its headers among them) and a handler. */
interface DispatchOptions {
  headers?: DispatchHeaders;
}

/** What a `fetch` init's `dispatcher` must be to Node's fetch: something to dispatch to (an undici `Dispatcher`). */
export interface FetchDispatcher {
  dispatch(options: DispatchOptions, handler: unknown): boolean;
}

/** A line of Node's own `fetch` source: it loads Node's internal undici, which nothing outside Node can. */
const NODE_FETCH_SOURCE = "require('internal/deps/undici/undici')";
let lastFetch: unknown;
let lastFetchIsNodes = false;

/**
 * Whether `fetchFunction` is Node's own `fetch`, which sends through `init.dispatcher`. Any other
 * (MSW or nock in a test, a polyfill) may answer the call from what it sees at the fetch level,
 * where a token added by the dispatcher would be missing: those get the token as a header.
 */
export function isNodeFetch(fetchFunction: typeof fetch): boolean {
  if (fetchFunction !== lastFetch) {
    lastFetch = fetchFunction;
    lastFetchIsNodes = Function.prototype.toString.call(fetchFunction).includes(NODE_FETCH_SOURCE);
  }
  return lastFetchIsNodes;
}

/**
 * Where Node's fetch sends a call: the dispatcher its init names, else the global one (set at
 * fetch's first call or load, or by undici's `setGlobalDispatcher`), if there is one yet.
 */
export function nextDispatcher(init: RequestInit): FetchDispatcher | undefined {
  return (
    (init as { dispatcher?: FetchDispatcher | null }).dispatcher ??
    (globalThis as Record<symbol, FetchDispatcher | undefined>)[GLOBAL_DISPATCHER]
  );
}

/**
 * The `dispatcher` of a `fetch` call that carries a cached bearer token: adds `authorization` as
 * fetch hands the call over, and passes it on. Cheaper than handing the header to fetch, which
 * would check, sort and copy it on every call. Node's own fetch only: no undici import.
 */
export class BearerDispatcher implements FetchDispatcher {
  constructor(
    readonly authorization: string,
    readonly next: FetchDispatcher,
  ) {}

  dispatch(options: DispatchOptions, handler: unknown): boolean {
    return this.next.dispatch(withHeaders(options, withAuthorization(options.headers, this.authorization)), handler);
  }
}
