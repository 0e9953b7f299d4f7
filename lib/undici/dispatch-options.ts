import type { Dispatcher } from 'undici';
import { findHeader } from '../http/fetch-headers.js';

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
  return { ...(headers as HeaderRecord) };
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

/** The headers with `authorization` set to `value`, as a new record (the caller's stays as it was). */
export function withAuthorization(headers: Dispatcher.DispatchOptions['headers'], value: string): HeaderRecord {
  if (headers == null) return { authorization: value };
  const record = headerRecord(headers);
  record.authorization = value;
  return record;
}

/** The request URL undici will send to, as one string: `origin` (string or URL) + `path`. */
export function requestUrl(options: Dispatcher.DispatchOptions): string {
  const { origin, path } = options;
  if (typeof origin === 'string') return origin.endsWith('/') ? origin.slice(0, -1) + path : origin + path;
  return origin === undefined ? path : origin.origin + path;
}

/** A body that can be sent again as the same bytes (not a stream, not a form's parts). */
export function isReplayable(body: Dispatcher.DispatchOptions['body']): boolean {
  return body == null || typeof body === 'string' || body instanceof Uint8Array;
}
