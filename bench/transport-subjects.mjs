// The fetch and undici transports of the library and their peers, in the shape of
// bench/subjects.mjs: start(env, options) → { call(): Promise<iat>, close() }, and baseline(env,
// options) → the same transport with a static `Authorization` header (a real token, fetched once,
// so the API reads the same bytes on both sides).
//
//   fetch:  the global `fetch` (Node's own undici) + static header  vs  OAuthFetch.fetch
//   undici: `request` on a `new Agent()` + static header  vs  oauthInterceptor, OAuthDispatcher,
//           undici-oidc-interceptor. Every undici row uses the same copy of undici (the root one:
//           the one the library's `nestjs-client-credentials/undici` entry resolves) and the same
//           `request`; the baseline is a fresh Agent of its own.
//
// With `{ stub: true }` no call reaches the network: the dispatcher at the bottom answers at once
// (StubDispatcher), as section 1b's stub axios adapter does. Tokens still come from the upstream.
//
// Section 7c gives no instructions per call (callgrind, as 1b does for axios): under callgrind a
// fetch call costs some 25 ms, and the count per round moved by up to 2× (most likely for the cause
// bench/instructions.mjs has since found and removed: incremental marking started on a timer; not
// measured again at this depth). Section 7d counts the library's layers alone over a stub
// (bench/transport-instructions-client.mjs); here, wall-clock µs taken in turns with the baseline,
// and bytes per call.
import { createOidcInterceptor } from 'undici-oidc-interceptor';
// The root copy of undici (CommonJS; loaded by path, as subjects.mjs loads the root axios).
import undici from '../node_modules/undici/index.js';
import UnwrapHandler from '../node_modules/undici/lib/handler/unwrap-handler.js';
import { apiClient, checked, credentials, nestApp, staticAuthorization } from './subjects.mjs';

const { Agent, Dispatcher, request } = undici;
const LIB = new URL(process.env.BENCH_LIB ?? '../dist/esm/index.js', import.meta.url);
const { OAuthModule, OAuthFetch, TokenService } = await import(LIB.href);
const { OAuthDispatcher, oauthInterceptor } = await import(new URL('./undici/index.js', LIB).href);
const { CLIENT_ID, CLIENT_SECRET } = credentials;

const STUB_BODY = Buffer.from(JSON.stringify({ ok: true, iat: 0 }));
const STUB_HEADERS = ['content-type', 'application/json', 'content-length', String(STUB_BODY.length)].map((s) =>
  Buffer.from(s),
);

/**
 * A dispatcher whose connection answers at once: 200 and a small JSON body, a microtask after the
 * call is dispatched. It takes handlers as an Agent does (`DispatcherBase.dispatch`: a new-style
 * handler, as an interceptor hands down, is unwrapped to the old callbacks), so each side does the
 * work it would do over a socket, minus undici's Client and the socket. Works for `request` (undici
 * 7) and as `init.dispatcher` of Node's global fetch (its undici 6 handler).
 */
export class StubDispatcher extends Dispatcher {
  dispatch(opts, handler) {
    const unwrapped = UnwrapHandler.unwrap(handler);
    queueMicrotask(() => {
      let aborted = false;
      unwrapped.onConnect((reason) => {
        aborted = true;
        unwrapped.onError(reason ?? new Error('aborted'));
      });
      if (aborted) return;
      unwrapped.onHeaders(200, STUB_HEADERS, () => undefined, 'OK');
      unwrapped.onData(STUB_BODY);
      unwrapped.onComplete([]);
    });
    return true;
  }
  close() {
    return Promise.resolve();
  }
  destroy() {
    return Promise.resolve();
  }
}

function oauthModule(env) {
  return OAuthModule.forRoot({
    logger: false,
    clients: { api: apiClient(env) },
  });
}

async function undiciCall(url, dispatcher, headers) {
  const { statusCode, body } = await request(url, headers === undefined ? { dispatcher } : { dispatcher, headers });
  return checked(statusCode, await body.json());
}

const fetchBaseline = {
  async baseline(env, { stub = false } = {}) {
    const authorization = await staticAuthorization(env);
    const init = stub
      ? { headers: { authorization }, dispatcher: new StubDispatcher() }
      : { headers: { authorization } };
    return {
      call: async () => {
        const res = await fetch(env.apiUrl, init);
        return checked(res.status, await res.json());
      },
      close: async () => undefined,
    };
  },
};

const undiciBaseline = {
  async baseline(env, { stub = false } = {}) {
    const authorization = await staticAuthorization(env);
    const agent = stub ? new StubDispatcher() : new Agent();
    return { call: () => undiciCall(env.apiUrl, agent, { authorization }), close: () => agent.close() };
  },
};

export const fetchSubjects = [
  {
    id: 'oauth-fetch',
    name: 'nestjs-client-credentials OAuthFetch',
    transport: 'global fetch',
    async start(env, { stub = false } = {}) {
      const app = await nestApp([oauthModule(env)]);
      const oauthFetch = app.get(OAuthFetch);
      const init = stub ? { dispatcher: new StubDispatcher() } : undefined;
      return {
        call: async () => {
          const res = await oauthFetch.fetch(env.apiUrl, init);
          return checked(res.status, await res.json());
        },
        close: () => app.close(),
      };
    },
    ...fetchBaseline,
  },
];

export const undiciSubjects = [
  {
    id: 'oauth-interceptor',
    name: 'nestjs-client-credentials oauthInterceptor',
    transport: 'undici request',
    async start(env, { stub = false } = {}) {
      const app = await nestApp([oauthModule(env)]);
      const agent = stub ? new StubDispatcher() : new Agent();
      const dispatcher = agent.compose(oauthInterceptor(app.get(TokenService)));
      return {
        call: () => undiciCall(env.apiUrl, dispatcher),
        close: async () => {
          await agent.close();
          await app.close();
        },
      };
    },
    ...undiciBaseline,
  },
  {
    id: 'oauth-dispatcher',
    name: 'nestjs-client-credentials OAuthDispatcher',
    transport: 'undici request',
    async start(env, { stub = false } = {}) {
      const app = await nestApp([oauthModule(env)], [OAuthDispatcher]);
      const dispatcher = app.get(OAuthDispatcher);
      // No-network only: its Agent is private, so the stub takes the place of the Agent it
      // dispatches to; the class's own work stays. (The Agent it made has no connection to close.)
      if (stub) {
        const agent = new StubDispatcher();
        dispatcher.agentDispatch = agent.dispatch.bind(agent);
      }
      return { call: () => undiciCall(env.apiUrl, dispatcher), close: () => app.close() };
    },
    ...undiciBaseline,
  },
  {
    // A control, not a client: what composing any interceptor costs a `request` call in undici 7
    // (the handler wrapped to the new API for the interceptor, and unwrapped back by the Agent).
    // Sent with the baseline's static header; measured without the network only (section 7c).
    id: 'compose-noop',
    name: 'control: Agent.compose(interceptor that does nothing)',
    transport: 'undici request',
    stubOnly: true,
    async start(env, { stub = false } = {}) {
      const authorization = await staticAuthorization(env);
      const agent = stub ? new StubDispatcher() : new Agent();
      const dispatcher = agent.compose((dispatch) => (opts, handler) => dispatch(opts, handler));
      return { call: () => undiciCall(env.apiUrl, dispatcher, { authorization }), close: () => agent.close() };
    },
    ...undiciBaseline,
  },
  {
    id: 'oidc-interceptor',
    name: 'undici-oidc-interceptor',
    transport: 'undici request',
    async start(env, { stub = false } = {}) {
      const agent = stub ? new StubDispatcher() : new Agent();
      const dispatcher = agent.compose(
        createOidcInterceptor({
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          idpTokenUrl: env.tokenUrl,
          urls: [env.origin],
        }),
      );
      return { call: () => undiciCall(env.apiUrl, dispatcher), close: () => agent.close() };
    },
    ...undiciBaseline,
  },
];

export const baselines = { fetch: fetchBaseline, undici: undiciBaseline };
