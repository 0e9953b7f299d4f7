import type { Dispatcher } from 'undici';
import { dispatchHeaderRecord as headerRecord, type DispatchHeaderRecord } from '../http/dispatch-headers.js';
import { findHeader } from '../http/fetch-headers.js';
import { joinOriginPath } from '../http/request-targets.js';

export { findHeader, headerRecord };
export { withAuthorization, withHeaders, type HeaderList } from '../http/dispatch-headers.js';

export type HeaderRecord = DispatchHeaderRecord;

/** Whether the headers set `name` (lower case), in any case and any of undici's header forms. */
export function hasHeader(headers: Dispatcher.DispatchOptions['headers'], lowerName: string): boolean {
  if (headers == null) return false;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (String(headers[i]).toLowerCase() === lowerName && headers[i + 1] !== undefined) return true;
    }
    return false;
  }
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return findHeader(headerRecord(headers), lowerName) !== undefined;
  }
  return findHeader(headers as HeaderRecord, lowerName) !== undefined;
}

/** The request URL undici will send to, as one string: `origin` (string or URL) + `path`. */
export function requestUrl(options: Dispatcher.DispatchOptions): string {
  const { origin, path } = options;
  if (typeof origin === 'string') return joinOriginPath(origin, path);
  return origin === undefined ? path : origin.origin + path;
}

/** A body that can be sent again as the same bytes (not a stream, not a form's parts). */
export function isReplayable(body: Dispatcher.DispatchOptions['body']): boolean {
  return body == null || typeof body === 'string' || body instanceof Uint8Array;
}
