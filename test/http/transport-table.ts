import 'reflect-metadata';
import { HttpService } from '@nestjs/axios';
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import { OAuthFetch, TokenService } from '../../lib/index.js';
import { OAuthDispatcher, oauthInterceptor } from '../../lib/undici/index.js';
import type { Cleanup } from '../support/cleanup.js';
import type { HttpApp } from './http-support.js';

/**
 * Every transport the bearer rules hold on, as one table: HttpService (axios), OAuthFetch and the
 * undici interceptor (with undici's redirect interceptor outside it), and OAuthDispatcher. Specs
 * that state a rule once for all of them run `describe.each(transportTable(track))`.
 */
export interface CallOptions {
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  oauth?: unknown;
}
export interface Answer {
  status: number;
  /** The Authorization the final hop's server saw (from its JSON echo), or null. */
  authorization: string | null;
}
export interface Transport {
  name: string;
  /** Whether it follows redirects (undici's `request` on a bare dispatcher does not). */
  redirects?: false;
  /** Makes calls through `app`'s module; resources it opens are tracked for closing. */
  client(app: HttpApp): (url: string, options?: CallOptions) => Promise<Answer>;
}

export async function answerOf(status: number, text: string): Promise<Answer> {
  const body = text.startsWith('{') ? (JSON.parse(text) as { authorization?: string | null }) : {};
  return { status, authorization: body.authorization ?? null };
}

/** Every transport, its resources (agents, dispatchers) tracked for closing after the test. */
export function transportTable(track: Cleanup['track']): Transport[] {
  return [
    {
      name: 'HttpService (axios)',
      client:
        (app) =>
        async (url, { method = 'GET', body, headers, oauth } = {}) => {
          const http = app.moduleRef.get(HttpService);
          const response = await http.axiosRef.request<string>({
            url,
            method,
            data: body,
            headers,
            oauth: oauth as never,
            validateStatus: () => true,
            responseType: 'text',
            transformResponse: [(data: string) => data],
          });
          return answerOf(response.status, response.data);
        },
    },
    {
      // Node's own fetch, through the global dispatcher (importing undici sets one in this realm).
      name: 'OAuthFetch',
      client: (app) => oauthFetchClient(app),
    },
    {
      name: 'OAuthFetch (init.dispatcher: an undici Agent)',
      client: (app) => {
        const agent = track(new Agent());
        return oauthFetchClient(app, { dispatcher: agent } as unknown as RequestInit);
      },
    },
    {
      // As under MSW or nock: the token goes as a header, where such a fetch can see it.
      name: "OAuthFetch (a global fetch not Node's own)",
      client: (app) => {
        const nodeFetch = globalThis.fetch;
        globalThis.fetch = (input, init) => nodeFetch(input, init);
        track({ close: async () => void (globalThis.fetch = nodeFetch) });
        return oauthFetchClient(app);
      },
    },
    {
      name: 'undici (oauthInterceptor)',
      client: (app) => {
        const agent = new Agent();
        track({ close: () => agent.close() });
        const dispatcher = agent.compose(
          oauthInterceptor(app.moduleRef.get(TokenService)),
          interceptors.redirect({ maxRedirections: 5 }),
        );
        return async (url, { method = 'GET', body, headers, oauth } = {}) => {
          const response = await request(url, { dispatcher, method, body, headers, oauth } as Parameters<
            typeof request
          >[1]);
          return answerOf(response.statusCode, await response.body.text());
        };
      },
    },
    {
      // Alone, the interceptor gets the WrapHandler compose puts around request()'s handler.
      name: 'undici (oauthInterceptor alone)',
      redirects: false,
      client: (app) => {
        const agent = new Agent();
        return undiciClient(track, agent.compose(oauthInterceptor(app.moduleRef.get(TokenService))));
      },
    },
    {
      // request() hands the dispatcher undici's older handler API, which it passes on untranslated.
      name: 'undici (OAuthDispatcher)',
      redirects: false,
      client: (app) => undiciClient(track, new OAuthDispatcher(app.moduleRef.get(TokenService))),
    },
    {
      name: 'undici (OAuthDispatcher + interceptors.redirect)',
      client: (app) =>
        undiciClient(
          track,
          new OAuthDispatcher(app.moduleRef.get(TokenService)),
          interceptors.redirect({ maxRedirections: 5 }),
        ),
    },
  ];
}

function oauthFetchClient(app: HttpApp, init: RequestInit = {}) {
  const { fetch } = app.moduleRef.get(OAuthFetch);
  return async (url: string, { method = 'GET', body, headers, oauth }: CallOptions = {}) => {
    const response = await fetch(url, { ...init, method, body, headers, oauth: oauth as never });
    return answerOf(response.status, await response.text());
  };
}

function undiciClient(
  track: Cleanup['track'],
  dispatcher: Dispatcher,
  outer?: Dispatcher.DispatcherComposeInterceptor,
) {
  track({ close: () => dispatcher.close() });
  const composed = outer === undefined ? dispatcher : dispatcher.compose(outer);
  return async (url: string, { method = 'GET', body, headers, oauth }: CallOptions = {}) => {
    const options = { dispatcher: composed, method, body, headers, oauth } as Parameters<typeof request>[1];
    const response = await request(url, options);
    return answerOf(response.statusCode, await response.body.text());
  };
}
