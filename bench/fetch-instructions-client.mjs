// Run under callgrind by bench/instructions.mjs (section 7f): a whole `fetch` call, Node's own
// fetch machinery included, over a dispatcher that answers at once (no socket). Sides:
//   baseline         `fetch(url, { headers: { accept, authorization }, dispatcher })`
//   library          `OAuthFetch.fetch(url, { headers: { accept }, dispatcher })` on Node's own fetch:
//                    the cached token is handed to the dispatcher as fetch dispatches the call
//   library-wrapped  the same, with `globalThis.fetch` wrapped in a function (as MSW or nock do):
//                    OAuthFetch then gives fetch the token as a header
//   node bench/fetch-instructions-client.mjs <side> <origin> <calls>
import { serveRounds } from './counted-rounds.mjs';
import { apiClient, nestApp, staticAuthorization } from './subjects.mjs';
import { StubDispatcher } from './transport-subjects.mjs';

const [side, origin, calls] = process.argv.slice(2);
const LIB = new URL(process.env.BENCH_LIB ?? '../dist/esm/index.js', import.meta.url);
const env = { origin, tokenUrl: `${origin}/oauth/token`, apiUrl: `${origin}/api/data` };
const authorization = await staticAuthorization(env);
const dispatcher = new StubDispatcher();

let app;
let call;
if (side === 'baseline') {
  call = () => fetch(env.apiUrl, { headers: { accept: 'application/json', authorization }, dispatcher });
} else {
  if (side === 'library-wrapped') {
    const nodeFetch = globalThis.fetch;
    globalThis.fetch = (input, init) => nodeFetch(input, init);
  }
  const { OAuthModule, OAuthFetch, TokenService } = await import(LIB.href);
  app = await nestApp([
    OAuthModule.forRoot({
      logger: false,
      telemetry: false,
      clients: { api: apiClient(env) },
    }),
  ]);
  await app.get(TokenService).getToken('api');
  const { fetch: oauthFetch } = app.get(OAuthFetch);
  call = () => oauthFetch(env.apiUrl, { headers: { accept: 'application/json' }, dispatcher });
}

const run = async () => {
  for (let i = 0; i < Number(calls); i++) {
    const response = await call();
    if (response.status !== 200) throw new Error(`answered ${response.status}`);
    await response.arrayBuffer();
  }
};
await serveRounds(run);
await app?.close();
