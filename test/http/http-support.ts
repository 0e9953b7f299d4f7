import 'reflect-metadata';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Test } from '@nestjs/testing';
import type { AxiosInstance } from 'axios';
import type { ServerResponse } from 'node:http';
import type { OAuthClientOptions, OAuthModuleOptions } from '../../lib/index.js';
import { bootOAuth, type Booted } from '../support/boot.js';
import type { Cleanup } from '../support/cleanup.js';
import { json, startRecordingServer, type RecordedRequest, type RecordingServer } from '../support/recording-server.js';

/** A token endpoint at `POST /oauth/token` handing out `<prefix>-1`, `<prefix>-2`, … */
export interface TokenServer extends RecordingServer {
  tokenUrl: string;
  issued: string[];
  /** Token requests received so far. */
  readonly count: number;
}

export async function startTokenServer(prefix = 'tok', tokenType = 'Bearer'): Promise<TokenServer> {
  const issued: string[] = [];
  const server = await startRecordingServer({
    'POST /oauth/token': (_req, res) => {
      const token = `${prefix}-${issued.length + 1}`;
      issued.push(token);
      json(res, 200, { access_token: token, token_type: tokenType, expires_in: 3600 });
    },
  });
  const tokenServer = Object.assign(server, { tokenUrl: `${server.url}/oauth/token`, issued }) as TokenServer;
  // A live getter (Object.assign would copy one value).
  Object.defineProperty(tokenServer, 'count', { get: () => issued.length });
  return tokenServer;
}

/**
 * An upstream API: every route answers 200 with what it received, unless `accept` says the bearer
 * token is not good (then 401). Unknown routes are not errors here: any path echoes.
 */
export interface UpstreamServer extends RecordingServer {
  /** The Authorization header of each request, in order (`undefined` when absent). */
  authorizations(): (string | undefined)[];
}

/** The JSON body an upstream answers with: what it received. */
export interface Echo {
  method: string;
  path: string;
  body: string;
  authorization: string | null;
}

export async function startUpstream(
  accept: (authorization: string | undefined, req: RecordedRequest) => boolean = () => true,
): Promise<UpstreamServer> {
  const server = await startRecordingServer();
  const echo = (req: RecordedRequest, res: ServerResponse) => {
    if (!accept(req.headers.authorization, req)) return json(res, 401, { error: 'invalid_token' });
    json(res, 200, {
      method: req.method,
      path: req.path,
      body: req.body,
      authorization: req.headers.authorization ?? null,
    });
  };
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']) {
    for (const path of [
      '/',
      '/v2',
      '/v2/items',
      '/v2x/items',
      '/V2/items',
      '/items',
      '/other',
      '/stream',
      '/oauth/token',
    ]) {
      server.route(`${method} ${path}`, echo);
    }
  }
  return Object.assign(server, { authorizations: () => server.requests.map((r) => r.headers.authorization) });
}

/** A token endpoint handing out `tok-1`, `tok-2`, …, an upstream API and a foreign origin, each closed after the test. */
export async function startTransportServers(
  track: Cleanup['track'],
): Promise<{ tokens: TokenServer; api: UpstreamServer; foreign: UpstreamServer }> {
  return {
    tokens: track(await startTokenServer('tok')),
    api: track(await startUpstream()),
    foreign: track(await startUpstream()),
  };
}

export function oauth2Client(tokenServer: TokenServer, extra: Partial<OAuthClientOptions> = {}): OAuthClientOptions {
  return {
    strategy: 'oauth2',
    tokenUrl: tokenServer.tokenUrl,
    clientId: 'id',
    clientSecret: 'secret',
    ...extra,
  } as OAuthClientOptions;
}

export type HttpApp = Booted;

export interface BootHttpOptions {
  http?: unknown;
  imports?: unknown[];
  oauth?: Partial<OAuthModuleOptions>;
  providers?: unknown[];
}

/** `bootOAuth` with plain `HttpModule` (or `options.http`); one attempt per token request by default. */
export function bootHttp(clients: Record<string, OAuthClientOptions>, options: BootHttpOptions = {}): Promise<HttpApp> {
  return bootOAuth(
    clients,
    { retry: { maxAttempts: 1 }, ...options.oauth },
    {
      imports: [options.http ?? HttpModule, ...(options.imports ?? [])],
      providers: options.providers,
    },
  );
}

/**
 * `bootHttp` with client `api` (oauth2 on `servers.tokens`, attached to `servers.api`) besides `extra`,
 * closed after the test: the app the transport specs start from.
 */
export async function bootAttached(
  track: Cleanup['track'],
  servers: { tokens: TokenServer; api: UpstreamServer },
  extra: Record<string, OAuthClientOptions> = {},
  options: BootHttpOptions = {},
): Promise<HttpApp> {
  const api = oauth2Client(servers.tokens, { attachTo: [servers.api.url] });
  return track(await bootHttp({ api, ...extra }, options));
}

/**
 * The process-wide axios default, as `HttpModule` binds it. Not simply `import axios`: under Nest 11
 * (@nestjs/axios 4, CommonJS) HttpModule gets axios's CommonJS build, another instance than ESM's.
 */
export async function httpModuleDefaultAxios(): Promise<AxiosInstance> {
  const probe = await Test.createTestingModule({ imports: [HttpModule] }).compile();
  const axios = probe.get(HttpService).axiosRef;
  await probe.close();
  return axios;
}

/** Interceptors currently installed on an axios instance (ejected slots are `null`). */
export function interceptorCount(axios: AxiosInstance): { request: number; response: number } {
  const live = (handlers: unknown[] | undefined) => (handlers ?? []).filter((h) => h != null).length;
  return { request: live(axios.interceptors.request.handlers), response: live(axios.interceptors.response.handlers) };
}
