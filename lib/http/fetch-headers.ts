/** `fetch` headers as a plain record: cheaper to copy and to read than a `Headers` per call. */
export type HeaderRecord = Readonly<Record<string, string>>;
type HeadersInit = NonNullable<RequestInit['headers']>;

/** No headers: one shared record (records are only ever copied, never changed). */
const NO_HEADERS: HeaderRecord = Object.freeze({});

/**
 * A call's headers as one record: the `Request`'s, then `init.headers` over them. A plain object
 * (the common case) is used as it is: it is never changed, only copied.
 */
export function headerRecord(request: Request | undefined, headers: RequestInit['headers']): HeaderRecord {
  if (request === undefined && (headers === undefined || isPlainRecord(headers))) return headers ?? NO_HEADERS;
  const merged = new Headers(request?.headers);
  if (headers !== undefined) new Headers(headers).forEach((value, name) => merged.set(name, value));
  return Object.fromEntries(merged);
}

/** The key under which a record sets `lowerName` (in any case), if it does. */
export function findHeader(headers: Readonly<Record<string, unknown>>, lowerName: string): string | undefined {
  for (const name in headers) {
    if (headers[name] !== undefined && name.toLowerCase() === lowerName) return name;
  }
  return undefined;
}

/** A copy without the named headers (lower-case names; matched in any case). */
export function withoutHeaders(headers: HeaderRecord, lowerNames: readonly string[]): HeaderRecord {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !lowerNames.includes(name.toLowerCase())));
}

function isPlainRecord(headers: HeadersInit): headers is Record<string, string> {
  const prototype = Object.getPrototypeOf(headers) as unknown;
  return prototype === Object.prototype || prototype === null;
}
