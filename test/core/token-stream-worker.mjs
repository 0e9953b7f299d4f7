// A Nest app in its own node process, under Node's default `--unhandled-rejections=throw`: it
// subscribes to token$ of a client whose token endpoint fails (SCENARIO=refused: 401
// invalid_client; SCENARIO=outage: connection refused) and prints what it saw, if it survives.
import 'reflect-metadata';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Test } from '@nestjs/testing';

const { LIB_DIR, SCENARIO } = process.env;
const lib = await import(pathToFileURL(join(LIB_DIR, 'index.js')).href);

const server = createServer((_req, res) =>
  res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}'),
);
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const tokenUrl = `http://127.0.0.1:${server.address().port}/oauth/token`;
if (SCENARIO === 'outage') await new Promise((resolve) => server.close(resolve));

const moduleRef = await Test.createTestingModule({
  imports: [
    lib.OAuthModule.forRoot({
      logger: false,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
      clients: { c: { strategy: 'oauth2', tokenUrl, clientId: 'id', clientSecret: 'secret' } },
    }),
  ],
}).compile();
await moduleRef.init();
const tokens = moduleRef.get(lib.TokenService);

const error = await new Promise((resolve) =>
  tokens.token$('c').subscribe({ next: () => resolve(undefined), error: resolve }),
);
// An unhandled rejection is reported once the microtask queue drains: give it several turns.
for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));

process.stdout.write(JSON.stringify({ survived: true, name: error?.name, code: error?.code }));
await moduleRef.close();
if (SCENARIO !== 'outage') await new Promise((resolve) => server.close(resolve));
