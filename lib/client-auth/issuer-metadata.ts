/** Authorization server metadata (RFC 8414, OpenID Connect Discovery 1.0): where to look, what to read. */
import { isHttpUrl } from '../common/url.js';
import { asRecord } from '../common/values.js';
import type { OAuthErrorCode } from '../errors/oauth-error-code.js';

/** Metadata is kept this long when the answer says nothing (`Cache-Control: max-age` otherwise). */
export const DEFAULT_METADATA_TTL_MS = 24 * 60 * 60 * 1000;

/** Why the metadata gave no token endpoint; becomes the attempt's `TokenRequestError`. */
export class DiscoveryFailure extends Error {
  constructor(
    readonly code: OAuthErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DiscoveryFailure';
  }
}

/**
 * The well-known URLs of an issuer, in the order they are tried: RFC 8414 §3.1 (the path-aware
 * form for an issuer with a path), then OpenID Discovery (appended to the issuer), then, for an
 * issuer with a path, OpenID's name in the RFC 8414 §5 position, which some servers use.
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  const at = (pathname: string) => `${url.origin}${pathname}`;
  if (path === '') {
    return [at('/.well-known/oauth-authorization-server'), at('/.well-known/openid-configuration')];
  }
  return [
    at(`/.well-known/oauth-authorization-server${path}`),
    at(`${path}/.well-known/openid-configuration`),
    at(`/.well-known/openid-configuration${path}`),
  ];
}

/** How long an answer may be kept: its `max-age` (0 for `no-store` / `no-cache`), else 24 h. */
export function metadataTtlMs(cacheControl: string | undefined): number {
  if (cacheControl === undefined) return DEFAULT_METADATA_TTL_MS;
  const directives = cacheControl
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  if (directives.includes('no-store') || directives.includes('no-cache')) return 0;
  const maxAge = directives.find((d) => d.startsWith('max-age='));
  const seconds = maxAge === undefined ? NaN : Number(maxAge.slice('max-age='.length));
  return Number.isInteger(seconds) && seconds >= 0 ? seconds * 1000 : DEFAULT_METADATA_TTL_MS;
}

/**
 * The token endpoint a metadata document names, after checking that it is the configured
 * issuer's (RFC 8414 §3.3: the values must be identical). With `mtls`, the
 * `mtls_endpoint_aliases.token_endpoint` of RFC 8705 §5 wins when present.
 */
export function tokenEndpointOf(json: unknown, issuer: string, url: string, mtls: boolean): string {
  const metadata = asRecord(json) ?? {};
  if (metadata.issuer !== issuer) {
    const named = typeof metadata.issuer === 'string' ? JSON.stringify(metadata.issuer.slice(0, 200)) : 'no issuer';
    throw new DiscoveryFailure('invalid_response', `the metadata at ${url} names ${named}, not "${issuer}"`, 200);
  }
  const alias = mtls ? asRecord(metadata.mtls_endpoint_aliases)?.token_endpoint : undefined;
  if (isHttpUrl(alias)) return alias as string;
  if (isHttpUrl(metadata.token_endpoint)) return metadata.token_endpoint as string;
  throw new DiscoveryFailure('invalid_response', `the metadata at ${url} has no http(s) token_endpoint`, 200);
}
