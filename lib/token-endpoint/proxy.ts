import type { TokenTransport } from '../config/resolved-client.js';

/**
 * The proxy a token request to `target` goes through: the configured `proxy`, else with
 * `proxyFromEnv` the `HTTPS_PROXY` / `HTTP_PROXY` of the environment unless `NO_PROXY` names the
 * host; else none. The environment is read per request, as curl does.
 */
export function proxyFor(
  target: URL,
  transport: TokenTransport,
  env: NodeJS.ProcessEnv = process.env,
): URL | undefined {
  if (transport.proxy !== undefined) return new URL(transport.proxy);
  if (transport.proxyFromEnv !== true || bypassesProxy(target, envValue(env, 'no_proxy'))) return undefined;
  const fromEnv = target.protocol === 'https:' ? envValue(env, 'https_proxy') : envValue(env, 'http_proxy');
  if (fromEnv === undefined) return undefined;
  try {
    return new URL(fromEnv.includes('://') ? fromEnv : `http://${fromEnv}`);
  } catch {
    return undefined; // an unusable proxy variable is ignored, as other clients do
  }
}

/** `Proxy-Authorization` for credentials in the proxy URL (decoded first: the URL holds them escaped). */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === '' && proxy.password === '') return undefined;
  const pair = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

function envValue(env: NodeJS.ProcessEnv, lowerName: string): string | undefined {
  const value = env[lowerName] ?? env[lowerName.toUpperCase()];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** `NO_PROXY`: `*`, or comma-separated hosts (`example.com` and `.example.com` cover subdomains), optional `:port`. */
function bypassesProxy(target: URL, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false;
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  return noProxy.split(',').some((raw) => {
    const entry = raw.trim().toLowerCase();
    if (entry === '*') return true;
    if (entry === '') return false;
    const [entryHost, entryPort] = entry.startsWith('[') ? splitBracketed(entry) : splitPort(entry);
    if (entryPort !== undefined && entryPort !== port) return false;
    const bare = entryHost.replace(/^\*?\./, '');
    return host === bare || host.endsWith(`.${bare}`);
  });
}

function splitPort(entry: string): [string, string | undefined] {
  const colon = entry.lastIndexOf(':');
  return colon > 0 && entry.indexOf(':') === colon
    ? [entry.slice(0, colon), entry.slice(colon + 1)]
    : [entry, undefined];
}

function splitBracketed(entry: string): [string, string | undefined] {
  const end = entry.indexOf(']');
  const port = entry.slice(end + 1).replace(/^:/, '');
  return [entry.slice(1, end), port === '' ? undefined : port];
}
