/**
 * A shallow copy of `source`'s own enumerable properties, to add properties to. Not `{ ...source }`:
 * on Node 20 (V8 11.3) a spread clone that then gets a key `source` lacks (`{ ...init, method }`,
 * or a later `copy.method = …`) leaves V8's fast path and costs 1.5–3 µs a call, more than the
 * rest of a request's work in this library; `Object.assign` stays fast on every Node version
 * (bench/RESULTS.md, section 7d).
 */
export function shallowCopy<T extends object>(source: T): T {
  return Object.assign({}, source);
}
