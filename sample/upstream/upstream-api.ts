import type { HttpService } from '@nestjs/axios';
import type { OAuthFetch } from 'nestjs-client-credentials';
import type { OAuthDispatcher } from 'nestjs-client-credentials/undici';
import { lastValueFrom } from 'rxjs';
import { request } from 'undici';
import type { Provider } from '../providers.js';

export interface PingResult {
  status: number;
  body: unknown;
}

/** How the app sends its calls to an upstream API: the library puts the token on all three. */
export type Transport = 'http' | 'fetch' | 'undici';

/** `GET url` over one transport, and what to call that transport in the walk-through. */
export interface Caller {
  readonly via: string;
  get(url: string): Promise<PingResult>;
}

const TIMEOUT_MS = 10_000;

/** `HttpService` (@nestjs/axios): the interceptor adds the token. */
export const overHttpService = (http: HttpService): Caller => ({
  via: 'HttpService',
  async get(url) {
    const response = await lastValueFrom(http.get(url));
    return { status: response.status, body: response.data };
  },
});

/** `OAuthFetch`: the global fetch plus tokens; `oauthFetch.fetch` is what a fetch-based client would be given. */
export const overOAuthFetch = (oauthFetch: OAuthFetch): Caller => ({
  via: 'OAuthFetch',
  async get(url) {
    const response = await oauthFetch.fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    return { status: response.status, body: await readBody(response.headers.get('content-type'), response) };
  },
});

/** undici's `request()` with `OAuthDispatcher`: the interceptor in the dispatcher adds the token. */
export const overUndici = (dispatcher: OAuthDispatcher): Caller => ({
  via: 'undici request() + OAuthDispatcher',
  async get(url) {
    const response = await request(url, { dispatcher, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS });
    const type = response.headers['content-type'];
    return { status: response.statusCode, body: await readBody(Array.isArray(type) ? type[0] : type, response.body) };
  },
});

/** JSON when the upstream says so, else text (axios does the same for `HttpService`). */
async function readBody(type: string | null | undefined, body: { text(): Promise<string> }): Promise<unknown> {
  const text = await body.text();
  if (!type?.includes('json') || text === '') return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * One upstream API. Note what is missing: no token handling at all. Whichever transport it uses,
 * the library puts the provider's token on every request whose URL is under the client's
 * `attachTo` (its baseUrl), and recovers from a 401 the same way.
 */
export class UpstreamApi {
  constructor(
    readonly provider: Provider,
    readonly baseUrl: string,
    private readonly pingPath: string,
    private readonly caller: Caller,
  ) {}

  /** What the calls go through, for the walk-through: `HttpService`, `OAuthFetch`, … */
  get via(): string {
    return this.caller.via;
  }

  ping(): Promise<PingResult> {
    return this.caller.get(`${this.baseUrl.replace(/\/+$/, '')}/${this.pingPath.replace(/^\/+/, '')}`);
  }
}
