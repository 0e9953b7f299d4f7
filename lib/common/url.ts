/** `'https://a.example/v1//'` → `'https://a.example/v1'`: prefixes compare and join without doubled slashes. */
export function withoutTrailingSlashes(value: string): string {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 0x2f) end--;
  return value.slice(0, end);
}

/** `base` + `path` with exactly one slash between them; a path prefix in `base` (`/sandbox`) is kept. */
export function joinUrl(base: string, path: string): string {
  const url = new URL(base);
  url.pathname = `${withoutTrailingSlashes(url.pathname)}/${path.replace(/^\/+/, '')}`;
  return url.toString();
}

/** An absolute `http:` or `https:` URL. */
export function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** A token endpoint as the bearer rules compare it: origin and path, no trailing slash, no query. */
export function endpointKey(url: URL): string {
  return url.origin + withoutTrailingSlashes(url.pathname);
}
