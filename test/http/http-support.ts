import 'reflect-metadata';
import { HttpModule } from '@nestjs/axios';
import { Test, type TestingModule } from '@nestjs/testing';
import type { AxiosInstance } from 'axios';
import type { ServerResponse } from 'node:http';
import { OAuthModule, type OAuthClientOptions, type OAuthModuleOptions } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing/fake-clock.js';
import { CaptureLogger } from '../support/capture-logger.js';
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

export async function startUpstream(accept: (authorization: string | undefined, req: RecordedRequest) => boolean = () => true): Promise<UpstreamServer> {
  const server = await startRecordingServer();
  const echo = (req: RecordedRequest, res: ServerResponse) => {
    if (!accept(req.headers.authorization, req)) return json(res, 401, { error: 'invalid_token' });
    json(res, 200, { method: req.method, path: req.path, body: req.body, authorization: req.headers.authorization ?? null });
  };
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']) {
    for (const path of ['/', '/v2', '/v2/items', '/v2x/items', '/V2/items', '/items', '/other', '/stream', '/oauth/token']) {
      server.route(`${method} ${path}`, echo);
    }
  }
  return Object.assign(server, { authorizations: () => server.requests.map((r) => r.headers.authorization) });
}

export function oauth2Client(tokenServer: TokenServer, extra: Partial<OAuthClientOptions> = {}): OAuthClientOptions {
  return { strategy: 'oauth2', tokenUrl: tokenServer.tokenUrl, clientId: 'id', clientSecret: 'secret', ...extra } as OAuthClientOptions;
}

export interface HttpApp {
  moduleRef: TestingModule;
  clock: FakeClock;
  logger: CaptureLogger;
  close(): Promise<void>;
}

/** A testing module with plain `HttpModule` (or `options.http`) and `OAuthModule.forRoot`, initialised (hooks ran). */
export async function bootHttp(
  clients: Record<string, OAuthClientOptions>,
  options: { http?: unknown; imports?: unknown[]; oauth?: Partial<OAuthModuleOptions>; providers?: unknown[] } = {},
): Promise<HttpApp> {
  const clock = new FakeClock();
  const logger = new CaptureLogger();
  const moduleRef = await Test.createTestingModule({
    imports: [
      (options.http ?? HttpModule) as typeof HttpModule,
      OAuthModule.forRoot({ logger, clock, retry: { maxAttempts: 1 }, ...options.oauth, clients }),
      ...((options.imports ?? []) as []),
    ],
    providers: (options.providers ?? []) as [],
  }).compile();
  await moduleRef.init();
  return { moduleRef, clock, logger, close: () => moduleRef.close() };
}

/** Interceptors currently installed on an axios instance (ejected slots are `null`). */
export function interceptorCount(axios: AxiosInstance): { request: number; response: number } {
  const live = (handlers: unknown[] | undefined) => (handlers ?? []).filter((h) => h != null).length;
  return { request: live(axios.interceptors.request.handlers), response: live(axios.interceptors.response.handlers) };
}
