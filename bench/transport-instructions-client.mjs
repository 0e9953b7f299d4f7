// Run under callgrind by bench/instructions.mjs (section 7d): the fetch and undici layers of the
// library alone, against what the same call costs with a static header. The transport under them
// is a stub that answers at once and synchronously drives the handler, so neither the network nor
// Node's fetch machinery (some 25 ms a call under callgrind) is in the count: what is left is the
// library's own work per call, and the baseline's (a header copy).
// The interceptor is composed over the same stub (`Dispatcher.compose`, as on an Agent), against
// the stub's own dispatch with the static header; `interceptor-noop` composes an interceptor that
// does nothing (with the static header): what composing any interceptor costs undici's dispatch.
//   node bench/transport-instructions-client.mjs <fetch|undici|interceptor>-<library|baseline|noop> <origin> <calls>
import undici from '../node_modules/undici/index.js';
import UnwrapHandler from '../node_modules/undici/lib/handler/unwrap-handler.js';
import { serveRounds } from './counted-rounds.mjs';
import { apiClient, nestApp, staticAuthorization } from './subjects.mjs';

const [side, origin, calls] = process.argv.slice(2);
const [transport, which] = side.split('-');
const LIB = new URL(process.env.BENCH_LIB ?? '../dist/esm/index.js', import.meta.url);
const { OAuthModule, OAuthFetch, TokenService } = await import(LIB.href);
const { OAuthDispatcher, oauthInterceptor } = await import(new URL('./undici/index.js', LIB).href);
const env = { origin, tokenUrl: `${origin}/oauth/token`, apiUrl: `${origin}/api/data` };
const authorization = await staticAuthorization(env);

const RAW_HEADERS = [Buffer.from('content-type'), Buffer.from('application/json')];
const BODY = Buffer.from('{"ok":true}');
const failures = [];
/** undici's older handler API, as `request()` hands the dispatcher. */
const handler = {
  onConnect() {},
  onHeaders: () => true,
  onData: () => true,
  onComplete() {},
  onError(error) {
    failures.push(error);
  },
};
function answer(_options, h) {
  h.onConnect(() => undefined);
  h.onHeaders(200, RAW_HEADERS, () => undefined, 'OK');
  h.onData(BODY);
  h.onComplete([]);
  return true;
}
/** The stub under a composition: it takes handlers as an Agent does (the new API unwrapped). */
class AnsweringDispatcher extends undici.Dispatcher {
  dispatch(options, h) {
    return answer(options, UnwrapHandler.unwrap(h));
  }
}
const RESPONSE = { status: 200, headers: { get: () => null } };
globalThis.fetch = async () => RESPONSE;

const app =
  which === 'library'
    ? await nestApp(
        [
          OAuthModule.forRoot({
            logger: false,
            telemetry: false,
            clients: { api: apiClient(env) },
          }),
        ],
        [OAuthDispatcher],
      )
    : undefined;

let call;
// Each side writes its dispatch options as a caller does, a literal per call; the baseline's holds
// the static header (a spread of shared options would cost the baseline more than the layer on Node 20).
if (transport === 'interceptor') {
  const stub = new AnsweringDispatcher();
  if (app) {
    const composed = stub.compose(oauthInterceptor(app.get(TokenService)));
    call = () =>
      composed.dispatch({ origin, path: '/api/data', method: 'GET', headers: { accept: 'application/json' } }, handler);
  } else {
    const target = which === 'noop' ? stub.compose((dispatch) => (options, h) => dispatch(options, h)) : stub;
    call = () =>
      target.dispatch(
        { origin, path: '/api/data', method: 'GET', headers: { accept: 'application/json', authorization } },
        handler,
      );
  }
} else if (transport === 'undici') {
  if (app) {
    const dispatcher = app.get(OAuthDispatcher);
    dispatcher.agentDispatch = answer;
    call = () =>
      dispatcher.dispatch(
        { origin, path: '/api/data', method: 'GET', headers: { accept: 'application/json' } },
        handler,
      );
  } else {
    call = () =>
      answer(
        { origin, path: '/api/data', method: 'GET', headers: { accept: 'application/json', authorization } },
        handler,
      );
  }
} else if (app) {
  const { fetch } = app.get(OAuthFetch);
  call = () => fetch(env.apiUrl, { headers: { accept: 'application/json' } });
} else {
  call = () => globalThis.fetch(env.apiUrl, { headers: { accept: 'application/json', authorization } });
}

// The token is cached before any call is counted (a dispatch does not wait for a token it fetches).
if (app) await app.get(TokenService).getToken('api');
const run = async () => {
  for (let i = 0; i < Number(calls); i++) await call();
  if (failures.length > 0) throw failures[0];
};
await serveRounds(run);
await app?.close();
