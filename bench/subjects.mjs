// The library and the peers a user would pick instead, behind one shape:
//   start(env) → { call(): Promise<iat>, getToken?(): Promise<unknown>, close() }
//   baseline(env) → the same transport with a static `Authorization` header and no auth library.
//                   The header carries a real token fetched once before the run, so the API does
//                   the same work (and reads the same bytes) for a baseline call as for a library's.
// `call()` GETs the protected API and resolves with the `iat_ms` of the token the API saw.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HttpModule, HttpService } from '@nestjs/axios';
import { firstValueFrom } from 'rxjs';
// The root copy of axios: the one @nestjs/axios and the library use.
import axios from '../node_modules/axios/index.js';
// BENCH_LIB=<path to an index.js> measures another build of the library (e.g. a patched copy).
const { OAuthModule, TokenService } = await import(process.env.BENCH_LIB ?? '../dist/esm/index.js');
import { OAuth2Client, OAuth2Fetch } from '@badgateway/oauth2-client';
import { clientCredentials } from 'axios-oauth-client';
import tokenInterceptor from 'axios-token-interceptor';
import { Agent, request } from 'undici';
import { createOidcInterceptor } from 'undici-oidc-interceptor';
import * as oidc from 'openid-client';

const CLIENT_ID = 'bench-client';
const CLIENT_SECRET = 'bench-secret';

/** An axios adapter that answers at once: the client's own work per call, without the network. */
export const stubAdapter = async (config) => ({
  data: { ok: true, iat: 0 },
  status: 200,
  statusText: 'OK',
  headers: {},
  config,
  request: {},
});

/** `Bearer <token>` from one plain token request: the baseline's static header. */
export async function staticAuthorization(env) {
  const res = await fetch(env.tokenUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const body = await res.json();
  if (res.status !== 200 || typeof body.access_token !== 'string')
    throw new Error(`baseline token request: status ${res.status}`);
  return `Bearer ${body.access_token}`;
}

export async function nestApp(imports, providers = []) {
  class BenchModule {}
  Module({ imports, providers })(BenchModule);
  return NestFactory.createApplicationContext(BenchModule, { logger: false });
}

export function checked(status, data) {
  if (status !== 200) throw Object.assign(new Error(`status ${status}`), { status });
  return data.iat;
}

async function fetchCall(url, authorization) {
  const res = await fetch(url, { headers: { authorization } });
  const body = await res.json();
  return checked(res.status, body);
}

async function undiciCall(url, dispatcher, headers) {
  const { statusCode, body } = await request(url, { dispatcher, headers });
  return checked(statusCode, await body.json());
}

/** Each subject: name, what it is built on, and how to start it and its static-header baseline. */
export const subjects = [
  {
    name: 'nestjs-client-credentials',
    transport: 'HttpService (axios)',
    async start(env, { scope, adapter } = {}) {
      const app = await nestApp([
        // Its own axios instance, as the baseline has: the two differ only by the library.
        HttpModule.register(adapter ? { adapter } : {}),
        OAuthModule.forRoot({
          logger: false,
          clients: {
            api: {
              strategy: 'oauth2',
              tokenUrl: env.tokenUrl,
              clientId: CLIENT_ID,
              clientSecret: CLIENT_SECRET,
              ...(scope ? { scope } : {}),
              attachTo: [`${env.origin}/api`],
            },
          },
        }),
      ]);
      const http = app.get(HttpService);
      const tokens = app.get(TokenService);
      return {
        call: async () => {
          const res = await firstValueFrom(http.get(env.apiUrl));
          return checked(res.status, res.data);
        },
        getToken: () => tokens.getToken('api'),
        getTokenFor: (scope) => tokens.getToken('api', { scope }),
        close: () => app.close(),
      };
    },
    async baseline(env, { adapter } = {}) {
      // A separate app, its own axios instance (HttpModule.register), no OAuthModule anywhere.
      const app = await nestApp([HttpModule.register(adapter ? { adapter } : {})]);
      const http = app.get(HttpService);
      const authorization = await staticAuthorization(env);
      return {
        call: async () => {
          const res = await firstValueFrom(http.get(env.apiUrl, { headers: { authorization } }));
          return checked(res.status, res.data);
        },
        close: () => app.close(),
      };
    },
  },
  {
    name: '@badgateway/oauth2-client',
    transport: 'fetch',
    async start(env) {
      const client = new OAuth2Client({
        server: env.origin,
        tokenEndpoint: '/oauth/token',
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
      });
      const wrapper = new OAuth2Fetch({ client, getNewToken: () => client.clientCredentials() });
      return {
        call: async () => {
          const res = await wrapper.fetch(env.apiUrl);
          return checked(res.status, await res.json());
        },
        getToken: () => wrapper.getAccessToken(),
        close: async () => undefined,
        /** One OAuth2Fetch per key, as the library keeps one cache entry per scope. */
        forKey: (scope) => new OAuth2Fetch({ client, getNewToken: () => client.clientCredentials({ scope: [scope] }) }),
      };
    },
    async baseline(env) {
      const authorization = await staticAuthorization(env);
      return { call: () => fetchCall(env.apiUrl, authorization), close: async () => undefined };
    },
  },
  {
    name: 'axios-oauth-client + axios-token-interceptor',
    transport: 'axios',
    async start(env) {
      const tokenAxios = axios.create();
      const makeCache = (scope) =>
        tokenInterceptor.tokenCache(
          () => clientCredentials(tokenAxios, env.tokenUrl, CLIENT_ID, CLIENT_SECRET, scope ?? null)(),
          {
            getMaxAge: (body) => body.expires_in * 1000,
          },
        );
      const cache = makeCache();
      const instance = axios.create();
      instance.interceptors.request.use(
        tokenInterceptor({ getToken: cache, headerFormatter: (body) => `Bearer ${body.access_token}` }),
      );
      return {
        call: async () => {
          const res = await instance.get(env.apiUrl);
          return checked(res.status, res.data);
        },
        getToken: () => cache(),
        close: async () => undefined,
        forKey: (scope) => makeCache(scope),
      };
    },
    async baseline(env) {
      const instance = axios.create();
      const authorization = await staticAuthorization(env);
      return {
        call: async () => {
          const res = await instance.get(env.apiUrl, { headers: { authorization } });
          return checked(res.status, res.data);
        },
        close: async () => undefined,
      };
    },
  },
  {
    name: 'undici-oidc-interceptor',
    transport: 'undici',
    noGetter: 'the token lives inside the dispatcher; there is no getter to call',
    async start(env, { connections } = {}) {
      const agent = new Agent(connections ? { connections } : {});
      const dispatcher = agent.compose(
        createOidcInterceptor({
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          idpTokenUrl: env.tokenUrl,
          urls: [env.origin],
        }),
      );
      return { call: () => undiciCall(env.apiUrl, dispatcher, {}), close: () => agent.close() };
    },
    async baseline(env) {
      const agent = new Agent();
      const authorization = await staticAuthorization(env);
      return { call: () => undiciCall(env.apiUrl, agent, { authorization }), close: () => agent.close() };
    },
  },
  {
    name: 'openid-client (value cache)',
    transport: 'fetch',
    async start(env) {
      const config = new oidc.Configuration(
        { issuer: env.origin, token_endpoint: env.tokenUrl },
        CLIENT_ID,
        CLIENT_SECRET,
      );
      oidc.allowInsecureRequests(config);
      // The docs show clientCredentialsGrant and leave caching to the user: a value cached until
      // expires_in is what that gives (no single flight, no refresh-ahead).
      const makeCache = (scope) => {
        let cached;
        return async () => {
          if (cached !== undefined && cached.expiresAt > Date.now()) return cached.token;
          const response = await oidc.clientCredentialsGrant(config, scope ? { scope } : {});
          cached = { token: response.access_token, expiresAt: Date.now() + response.expires_in * 1000 };
          return cached.token;
        };
      };
      const getToken = makeCache();
      return {
        call: async () => fetchCall(env.apiUrl, `Bearer ${await getToken()}`),
        getToken,
        close: async () => undefined,
        forKey: (scope) => makeCache(scope),
      };
    },
    async baseline(env) {
      const authorization = await staticAuthorization(env);
      return { call: () => fetchCall(env.apiUrl, authorization), close: async () => undefined };
    },
  },
];

export const credentials = { CLIENT_ID, CLIENT_SECRET };

/** The client the transport benchmarks use: the upstream's token endpoint, its token on the upstream's API. */
export function apiClient(env) {
  return {
    strategy: 'oauth2',
    tokenUrl: env.tokenUrl,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    attachTo: [`${env.origin}/api`],
  };
}
