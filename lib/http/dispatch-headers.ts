import { shallowCopy } from '../common/shallow-copy.js';

/**
 * Headers as undici's dispatch options hold them (undici's `Dispatcher.DispatchOptions['headers']`,
 * written out here: the core does not reach undici, an optional peer): a record, a flat
 * `[name, value, …]` list, or an iterable of pairs.
 */
export type DispatchHeaders =
  | Record<string, string | string[] | undefined>
  | (string | string[])[]
  | Iterable<[string, string | string[] | undefined]>
  | null
  | undefined;

export type DispatchHeaderRecord = Record<string, string | string[] | undefined>;

/** Flat `[name, value, …]` headers; a value may be a list of values (undici sends each). */
export type HeaderList = string[];

/** Dispatch options' headers as a fresh record. */
export function dispatchHeaderRecord(headers: DispatchHeaders): DispatchHeaderRecord {
  if (headers == null) return {};
  if (Array.isArray(headers)) {
    const record: DispatchHeaderRecord = {};
    for (let i = 0; i + 1 < headers.length; i += 2) record[String(headers[i])] = headers[i + 1] as string;
    return record;
  }
  if (isIterable(headers)) return Object.fromEntries(headers);
  return shallowCopy(headers);
}

/**
 * The caller's headers, then `authorization: value`, as a flat `[name, value, …]` list (one of the
 * forms undici takes, and the one it walks anyway): cheaper than copying a record on every Node
 * version, and the caller's headers stay as they were. More pairs (`dpop`) may be pushed onto it.
 */
export function withAuthorization(headers: DispatchHeaders, value: string): HeaderList {
  const list: HeaderList = [];
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) list.push(headers[i] as string, headers[i + 1] as string);
  } else if (headers != null) {
    const record = isIterable(headers) ? dispatchHeaderRecord(headers) : headers;
    for (const name in record) {
      const header = record[name];
      if (header !== undefined) list.push(name, header as string);
    }
  }
  list.push('authorization', value);
  return list;
}

/** The dispatch options with other headers, as a new object (the caller's stays as it was). */
export function withHeaders<Options extends object>(options: Options, headers: HeaderList): Options {
  // Replacing a key the object has keeps V8's fast clone on Node 20; adding one would not (see shallowCopy).
  if (Object.hasOwn(options, 'headers')) return { ...options, headers };
  const copy: Options & { headers?: HeaderList } = shallowCopy(options);
  copy.headers = headers;
  return copy;
}

function isIterable(headers: object): headers is Iterable<[string, string | string[] | undefined]> {
  return typeof (headers as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function';
}
