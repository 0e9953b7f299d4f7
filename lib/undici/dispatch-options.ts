import type { Dispatcher } from 'undici';
import { shallowCopy } from '../common/shallow-copy.js';
import { findHeader } from '../http/fetch-headers.js';
import { joinOriginPath } from '../http/request-targets.js';

export { findHeader };

export type HeaderRecord = Record<string, string | string[] | undefined>;

/** Dispatch options' headers as a fresh record (undici also takes arrays of pairs and iterables). */
export function headerRecord(headers: Dispatcher.DispatchOptions['headers']): HeaderRecord {
  if (headers == null) return {};
  if (Array.isArray(headers)) {
    const record: HeaderRecord = {};
    for (let i = 0; i + 1 < headers.length; i += 2) record[String(headers[i])] = headers[i + 1] as string;
    return record;
  }
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return Object.fromEntries(headers as Iterable<[string, string | string[] | undefined]>);
  }
  return shallowCopy(headers as HeaderRecord);
}

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

/**
 * The caller's headers, then `authorization: value`, as a flat `[name, value, …]` list (one of the
 * forms undici takes, and the one it walks anyway): cheaper than copying a record on every Node
 * version, and the caller's headers stay as they were. More pairs (`dpop`) may be pushed onto it.
 */
export function withAuthorization(headers: Dispatcher.DispatchOptions['headers'], value: string): HeaderList {
  const list: HeaderList = [];
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) list.push(headers[i] as string, headers[i + 1] as string);
  } else if (headers != null) {
    const record: HeaderRecord =
      typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function'
        ? headerRecord(headers)
        : (headers as HeaderRecord);
    for (const name in record) {
      const header = record[name];
      if (header !== undefined) list.push(name, header as string);
    }
  }
  list.push('authorization', value);
  return list;
}

/** Flat `[name, value, …]` headers; a value may be a list of values (undici sends each). */
export type HeaderList = string[];

/** The dispatch options with other headers, as a new object (the caller's stays as it was). */
export function withHeaders(options: Dispatcher.DispatchOptions, headers: HeaderList): Dispatcher.DispatchOptions {
  // Replacing a key the object has keeps V8's fast clone on Node 20; adding one would not (see shallowCopy).
  if (Object.hasOwn(options, 'headers')) return { ...options, headers };
  const copy = shallowCopy(options);
  copy.headers = headers;
  return copy;
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
