import { attachRules } from '../common/attach-rules.js';
import { endpointKey } from '../common/url.js';
import type { TokenHttpResponse } from '../strategies/token-strategy.interface.js';
import { DiscoveryFailure, metadataTtlMs, metadataUrls, tokenEndpointOf } from './issuer-metadata.js';

/** GETs one metadata URL; a transport failure is thrown as is. */
export type MetadataFetch = (url: string) => Promise<TokenHttpResponse>;

/**
 * A client's token endpoint as its issuer's metadata names it: fetched on the first token
 * request, one request however many callers, kept for 24 h or the answer's `max-age`, and
 * forgotten after the token endpoint failed in a way that suggests it moved.
 */
export class IssuerEndpoint {
  private known: { tokenUrl: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;
  private key: string | undefined;

  /** @param mtls the client has TLS material: RFC 8705's `mtls_endpoint_aliases` apply. */
  constructor(
    readonly issuer: string,
    private readonly mtls: boolean,
  ) {}

  /** The last discovered token endpoint as the bearer rules compare URLs; `undefined` before discovery. */
  get tokenEndpointKey(): string | undefined {
    return this.key;
  }

  /** The token URL: the cached one while fresh, else the metadata's, fetched once for all concurrent callers. */
  tokenUrl(fetch: MetadataFetch, now: number): Promise<string> {
    if (this.known !== undefined && now < this.known.expiresAt) return Promise.resolve(this.known.tokenUrl);
    this.pending ??= this.discover(fetch, now).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** The next token request fetches the metadata again (the endpoint answered 404, or not at all). */
  forget(): void {
    this.known = undefined;
  }

  private async discover(fetch: MetadataFetch, now: number): Promise<string> {
    const statuses: number[] = [];
    for (const url of metadataUrls(this.issuer)) {
      const response = await fetch(url);
      if (response.status !== 200 || typeof response.json !== 'object' || response.json === null) {
        statuses.push(response.status);
        continue;
      }
      const tokenUrl = tokenEndpointOf(response.json, this.issuer, url, this.mtls);
      this.known = { tokenUrl, expiresAt: now + metadataTtlMs(response.headers['cache-control']) };
      this.learn(tokenUrl);
      return tokenUrl;
    }
    // A 5xx or 429 may pass: its code makes the attempt retryable; anything else will not.
    const transient = statuses.find((status) => status >= 500 || status === 429);
    const answers = statuses.map((status) => `HTTP ${status}`).join(', ');
    const description = `no metadata for issuer "${this.issuer}" at its well-known URLs (${answers})`;
    if (transient !== undefined) {
      const code = transient === 429 ? 'rate_limited' : transient === 503 ? 'temporarily_unavailable' : 'server_error';
      throw new DiscoveryFailure(code, description, transient);
    }
    throw new DiscoveryFailure('invalid_response', description);
  }

  private learn(tokenUrl: string): void {
    const key = endpointKey(new URL(tokenUrl));
    if (key === this.key) return;
    this.key = key;
    attachRules.generation++;
  }
}
