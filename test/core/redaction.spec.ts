// Whatever a token endpoint answers (an echo of the request in any field a dialect reads, a body no
// dialect can parse), no form of the secret and no token comes out of the library; and reading a
// hostile body costs linear time (figures: `node --expose-gc bench/run.mjs redact`).
import type { ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { TokenRequestError, type OAuthClientOptions } from '../../lib/index.js';
import { redact, sensitiveValues, snippet } from '../../lib/token-endpoint/redact.js';
import { formEncode } from '../../lib/common/form-encode.js';
import { bootOAuth, flushMicrotasks, type Booted } from '../support/boot.js';
import {
  fakeJwt,
  json,
  startRecordingServer,
  type RecordedRequest,
  type RecordingServer,
} from '../support/recording-server.js';

// Every character that some wire form escapes differently: ':' (Basic), '+' '%' '=' ' ' (forms),
// '"' and '\' (JSON).
const SECRET = 'p:a+s%s=w"o\\rd x';
const CLIENT_ID = 'client.id';
const JWT = fakeJwt({ sub: 'svc', exp: 1 });
const OPAQUE = 'AT-9f8e7d6c5b4a3f2e1d0c-TOKEN';
const SHORT = 'q7Tk9ZpA'; // too short to look like a token: only its key gives it away

const jsonEscaped = (s: string) => JSON.stringify(s).slice(1, -1);
const base64 = (s: string) => Buffer.from(s).toString('base64');

/** The secret as each dialect puts it on the wire. */
const SECRET_FORMS = {
  raw: SECRET,
  'form-encoded': formEncode(SECRET),
  encodeURIComponent: encodeURIComponent(SECRET),
  'JSON-escaped': jsonEscaped(SECRET),
  'Basic (raw)': base64(`${CLIENT_ID}:${SECRET}`),
  'Basic (rfc6749)': base64(`${formEncode(CLIENT_ID)}:${formEncode(SECRET)}`),
};
const FORBIDDEN = [...Object.values(SECRET_FORMS), JWT, OPAQUE, SHORT];
/** Each forbidden value also as JSON.stringify and util.inspect would print it. */
const FORBIDDEN_RENDERINGS = [...new Set(FORBIDDEN.flatMap((f) => [f, jsonEscaped(f), inspect(f).slice(1, -1)]))];

function expectClean(text: string | undefined, where: string) {
  if (text === undefined) return;
  for (const forbidden of FORBIDDEN_RENDERINGS) {
    if (text.includes(forbidden)) throw new Error(`${where} leaks ${JSON.stringify(forbidden)}:\n${text}`);
  }
}

/** Every text an error exposes, its cause chain included. */
function expectCleanError(error: unknown) {
  expect(error).toBeInstanceOf(TokenRequestError);
  const e = error as TokenRequestError;
  expectClean(e.message, 'message');
  expectClean(e.description, 'description');
  expectClean(e.providerCode, 'providerCode');
  expectClean(e.bodySnippet, 'bodySnippet');
  expectClean(JSON.stringify(e), 'JSON.stringify(error)');
  expectClean(inspect(e, { depth: 10, showHidden: true }), 'util.inspect(error)');
  for (let cause = e.cause, depth = 1; cause !== undefined && depth < 10; depth++) {
    expectClean(String(cause), `cause ${depth}`);
    expectClean(inspect(cause, { depth: 10, showHidden: true }), `util.inspect(cause ${depth})`);
    if (cause instanceof Error) expectClean(cause.stack, `cause ${depth} stack`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
}

type Responder = (req: RecordedRequest, res: ServerResponse) => void;

interface Dialect {
  name: string;
  options: (url: string) => OAuthClientOptions;
  /** The status this dialect's provider answers bad credentials with. */
  status: number;
  /** Error bodies with `text` in every field the dialect reads as code, message or description. */
  errorBodies: (text: string) => unknown[];
}

const credentials = { clientId: CLIENT_ID, clientSecret: SECRET };
const DIALECTS: Dialect[] = [
  {
    name: 'oauth2 client_secret_basic (rfc6749 encoding)',
    options: (url) => ({ strategy: 'oauth2', tokenUrl: `${url}/oauth/token`, ...credentials }),
    status: 401,
    errorBodies: (text) => [{ error: text, error_description: text }],
  },
  {
    name: 'oauth2 client_secret_basic (raw encoding)',
    options: (url) => ({ strategy: 'oauth2', tokenUrl: `${url}/oauth/token`, basicEncoding: 'raw', ...credentials }),
    status: 401,
    errorBodies: (text) => [{ error: text, error_description: text }],
  },
  {
    name: 'oauth2 client_secret_post',
    options: (url) => ({
      strategy: 'oauth2',
      tokenUrl: `${url}/oauth/token`,
      authMethod: 'client_secret_post',
      ...credentials,
    }),
    status: 400,
    errorBodies: (text) => [{ error: text, error_description: text }],
  },
  {
    name: 'youhodler',
    options: (url) => ({ strategy: 'youhodler', baseUrl: url, ...credentials }),
    status: 400,
    errorBodies: (text) => [{ code: text, message: text, details: { reason: text } }],
  },
  {
    name: 'palisade',
    options: (url) => ({ strategy: 'palisade', baseUrl: url, ...credentials }),
    status: 401,
    errorBodies: (text) => [
      { code: text, message: text, details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: text }] },
    ],
  },
  {
    name: 'firstvision basic-query',
    options: (url) => ({ strategy: 'firstvision', baseUrl: url, scope: 'accounts:read', ...credentials }),
    status: 401,
    errorBodies: (text) => [
      [{ errorCode: text, detail: text, title: text, 'invalid-params': [{ name: 'client_secret', reason: text }] }],
      [{ errorCode: text, detail: text, title: text }],
      [{ errorCode: text, title: text }],
    ],
  },
  {
    name: 'firstvision json-body',
    options: (url) => ({
      strategy: 'firstvision',
      variant: 'json-body',
      baseUrl: url,
      scope: 'accounts:read',
      ...credentials,
    }),
    status: 401,
    errorBodies: (text) => [[{ errorCode: text, detail: text, title: text }]],
  },
  {
    name: 'alternative-payments',
    options: (url) => ({ strategy: 'alternative-payments', baseUrl: url, ...credentials }),
    status: 403,
    errorBodies: (text) => [
      { code: text, message: text, reason: text },
      { error: text, detail: text },
      { error: JWT, detail: text },
    ],
  },
];

/** What an echoing provider can copy from the request, in every form, and tokens it holds. */
const ECHO_ITEMS: Record<string, (req: RecordedRequest) => string | undefined> = {
  'request body': (req) => (req.body.length > 0 ? req.body : undefined),
  'Authorization header': (req) => req.headers.authorization,
  ...Object.fromEntries(Object.entries(SECRET_FORMS).map(([name, form]) => [`secret ${name}`, () => form])),
  JWT: () => JWT,
  'opaque token': () => OPAQUE,
};
const echoAll = (req: RecordedRequest) =>
  Object.values(ECHO_ITEMS)
    .map((item) => item(req))
    .filter((text): text is string => text !== undefined)
    .join(' | ');

/** Non-JSON bodies (no dialect can parse them), each short enough to land whole in the snippet. */
const UNPARSED_SHAPES: Record<string, (text: string) => string> = {
  XML: (text) => `<?xml version="1.0"?><error><message>${text}</message></error>`,
  'Python dict': (text) => `{'error': 'invalid_client', 'echo': '${text}'}`,
  HTML: (text) => `<html><body><h1>Bad Request</h1><p>${text}</p></body></html>`,
};

/** Unparsed bodies whose token only its key name (or its shape) gives away. */
const TOKEN_BODIES = [
  `<?xml version="1.0"?><response><access_token>${SHORT}</access_token><expires_in>3600</expires_in></response>`,
  `<ns:Token type="opaque">${OPAQUE}</ns:Token><ns:idToken>${JWT}</ns:idToken>`,
  `{'access_token': '${SHORT}', 'token_type': 'Bearer', 'expires_in': 3600}`,
  `{u'refresh_token': u'${SHORT}', u'id_token': u'${JWT}'}`,
  `<html><body><p>Your token is</p><pre>${OPAQUE}</pre><input type="hidden" value="${JWT}"></body></html>`,
  `access_token=${SHORT}&token_type=bearer&expires_in=3600`,
  `AccessToken => "${SHORT}", ClientSecret: ${SHORT}`,
  `{\\"accessToken\\":\\"${SHORT}\\"}`,
  `token: ${SHORT}\nexpires_in: 3600`,
];

let server: RecordingServer;
let respond: Responder = (_req, res) => json(res, 500, {});
beforeAll(async () => {
  const route = (req: RecordedRequest, res: ServerResponse) => respond(req, res);
  server = await startRecordingServer({
    'POST /oauth/token': route,
    'POST /v2/credentials/oauth/token': route,
    'POST /v1/api/oauth/token': route,
  });
});
afterAll(() => server.close());
let app: Booted | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function failure(booted: Booted, responder: Responder): Promise<TokenRequestError> {
  respond = responder;
  const error = await booted.tokens.getToken('api').catch((e: unknown) => e);
  expectCleanError(error);
  return error as TokenRequestError;
}

async function boot(dialect: Dialect): Promise<Booted> {
  app = await bootOAuth(
    { api: dialect.options(server.url) },
    { retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 } },
  );
  return app;
}

describe.each(DIALECTS)('redaction: $name', (dialect) => {
  it('a provider echoing the request into every error field (code, message, description) leaks nothing', async () => {
    const booted = await boot(dialect);
    for (const index of dialect.errorBodies('').keys()) {
      const error = await failure(booted, (req, res) =>
        json(res, dialect.status, dialect.errorBodies(`you sent: ${echoAll(req)}`)[index]),
      );
      // The echo did reach the error, redacted: the test does not pass on an empty error.
      expect(error.description).toContain('you sent:');
      if (index === 0) expect(error.providerCode).toContain('you sent:');
      if (error.providerCode !== undefined) expect(error.providerCode).toContain('[redacted]');
    }
    await flushMicrotasks();
    expectClean(booted.logger.text(), 'log');
  });

  it.each(Object.keys(ECHO_ITEMS))(
    'the echoed %s inside a 2xx JSON error body stays out of the body snippet',
    async (name) => {
      const booted = await boot(dialect);
      const error = await failure(booted, (req, res) =>
        json(res, 200, dialect.errorBodies(`echo ${ECHO_ITEMS[name]!(req) ?? 'nothing'}`)[0]),
      );
      expect(error.bodySnippet).toContain('echo');
      expectClean(booted.logger.text(), 'log');
    },
  );

  it.each(Object.entries(UNPARSED_SHAPES))(
    'every echoed form inside a %s body stays out of the body snippet',
    async (_shape, shape) => {
      const booted = await boot(dialect);
      for (const item of Object.values(ECHO_ITEMS)) {
        const error = await failure(booted, (req, res) =>
          res.writeHead(dialect.status, { 'content-type': 'text/plain' }).end(shape(item(req) ?? 'nothing')),
        );
        expect(error.bodySnippet).toBeDefined();
      }
      expectClean(booted.logger.text(), 'log');
    },
  );

  it('a token in a body that could not be parsed (XML, Python dict, HTML, query string) stays out', async () => {
    const booted = await boot(dialect);
    for (const body of TOKEN_BODIES) {
      const error = await failure(booted, (_req, res) =>
        res.writeHead(dialect.status, { 'content-type': 'text/html' }).end(body),
      );
      expect(error.bodySnippet).toContain('[redacted]');
    }
    for (const body of TOKEN_BODIES) {
      const error = await failure(booted, (_req, res) =>
        res.writeHead(200, { 'content-type': 'application/xml' }).end(body),
      );
      expect(error.code).toBe('invalid_response');
    }
    expectClean(booted.logger.text(), 'log');
  });
});

describe('redact()', () => {
  const sensitive = sensitiveValues(CLIENT_ID, SECRET);

  it('covers every wire form of the secret', () => {
    for (const form of Object.values(SECRET_FORMS)) expect(sensitive).toContain(form);
    for (const [name, form] of Object.entries(SECRET_FORMS)) {
      expect([name, redact(`before ${form} after`, sensitive)]).toEqual([name, 'before [redacted] after']);
    }
  });

  it('removes the longest form first, so no fragment of a longer one is left', () => {
    expect(redact(`{"client_secret":"${jsonEscaped(SECRET)}"}`, sensitive)).toBe('{"client_secret":"[redacted]"}');
  });

  it.each([
    ['XML element', `<access_token>${SHORT}</access_token>`, '<access_token>[redacted]</access_token>'],
    ['JSON', `{"accessToken": "${SHORT}"}`, '{"accessToken": "[redacted]"}'],
    ['escaped JSON', `{\\"refresh_token\\":\\"${SHORT}\\"}`, '{\\"refresh_token\\":\\"[redacted]\\"}'],
    ['Python dict', `{'ID_TOKEN': '${SHORT}'}`, "{'ID_TOKEN': '[redacted]'}"],
    ['query string', `a=1&client_assertion=${SHORT}&b=2`, 'a=1&client_assertion=[redacted]&b=2'],
    ['Ruby hash', `:password => "${SHORT}"`, ':password => "[redacted]"'],
    ['YAML', `clientSecret: ${SHORT}\n`, 'clientSecret: [redacted]\n'],
    ['base64 value with padding', `assertion=${SHORT}==;`, 'assertion=[redacted]==;'],
  ])('redacts the value after a token-ish key: %s', (_case, text, expected) => {
    expect(redact(text, [])).toBe(expected);
  });

  it('redacts JWT-shaped and long mixed runs wherever they stand', () => {
    expect(redact(`jwt ${JWT}.`, [])).toBe('jwt [redacted]');
    expect(redact(`opaque ${OPAQUE}, base64 dGhpcyBpcyBhIHRva2VuIHZhbHVlIDEyMw==`, [])).toBe(
      'opaque [redacted], base64 [redacted]==',
    );
    expect(redact('path \\/a1b2c3d4e5f6a7b8c9d0e1f2\\/ end', [])).toBe('path [redacted] end');
  });

  it('keeps prose, HTML, provider codes and short words readable', () => {
    const page =
      '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>The server is temporarily unable to service your request; token requests will work again soon.</p></body></html>';
    for (const text of [
      page,
      'idempotency_conflict',
      '240101',
      'Invalid client credentials or scope',
      'token expired at 2026-01-01T00:00:00Z (request 42)',
      'Bearer realm="api"',
    ]) {
      expect(redact(text, sensitive)).toBe(text);
    }
    expect(snippet(`  <p>Maintenance\n\n  until 10:00</p>  `, sensitive)).toBe('<p>Maintenance until 10:00</p>');
  });

  it('leaves no key or token behind however keys and tokens are chained; back-to-back redactions share one marker', () => {
    expect(redact(`"access_token":"access_token":"${SHORT}"`, [])).toBe('"access_token":"[redacted]"');
    expect(redact(`token=token=${SHORT}&b=2`, [])).toBe('token=[redacted]&b=2');
    expect(redact(`${JWT} ${OPAQUE} and ${JWT}`, [])).toBe('[redacted] and [redacted]');
  });

  it('drops the rest of a text that needs more than 10,000 redactions', () => {
    const out = redact(`start ${`token=${SHORT} `.repeat(20_000)}`, []);
    expect(out.startsWith('start token=[redacted] token=[redacted] ')).toBe(true);
    expect(out.endsWith('[redacted: the rest]')).toBe(true);
    expect(out).not.toContain(SHORT);
  });

  it('cuts the snippet after the first characters, whitespace collapsed, however long the body', () => {
    const body = `  <h1>Bad\n\n Request</h1>${' \n'.repeat(100_000)}${'word '.repeat(100_000)}`;
    const cut = snippet(body, sensitive)!;
    expect(cut).toBe(`<h1>Bad Request</h1> ${'word '.repeat(100_000)}`.slice(0, 200) + '…');
    expect(snippet(' \n\t ', sensitive)).toBeUndefined();
    expect(snippet(`a${' '.repeat(10_000)}b`, sensitive)).toBe('a b');
  });
});

/** 1 MiB bodies built to hurt a backtracking or quadratic scanner. */
const MIB = 1024 * 1024;
const fill = (unit: string) => unit.repeat(Math.ceil(MIB / unit.length)).slice(0, MIB);
const HOSTILE_BODIES: Record<string, string> = {
  "'eyJ' repeated": fill('eyJ'),
  "'a.' repeated": fill('a.'),
  "'eyJa.' repeated": fill('eyJa.'),
  '\'"access_token":\' repeated': fill('"access_token":'),
  "'token=' repeated": fill('token='),
  "'token=x ' repeated": fill('token=x '),
  "'a ' repeated": fill('a '),
  'one character': fill('x'),
  whitespace: fill(' \n'),
  'random base64': randomBytes(MIB).toString('base64').slice(0, MIB),
};

describe('redaction of a 1 MiB hostile body does not block the event loop', () => {
  it.each(Object.entries(HOSTILE_BODIES))('%s: event-loop delay under 200 ms', async (_shape, body) => {
    app = await bootOAuth({ api: DIALECTS[0]!.options(server.url) });
    // One failure unmeasured first: compiling the scan is not what this bounds.
    respond = (_req, res) => void res.writeHead(400, { 'content-type': 'text/plain' }).end(body);
    await app.tokens.getToken('api').catch(() => undefined);
    const delay = monitorEventLoopDelay({ resolution: 1 });
    for (const answer of [
      (res: ServerResponse) => res.writeHead(400, { 'content-type': 'text/plain' }).end(body),
      (res: ServerResponse) =>
        json(res, 400, { error: body.slice(0, MIB / 3), error_description: body.slice(0, MIB / 3) }),
    ]) {
      respond = (_req, res) => answer(res);
      delay.enable();
      const error = await app.tokens.getToken('api').catch((e: unknown) => e);
      delay.disable();
      expect(error).toBeInstanceOf(TokenRequestError);
    }
    expect(delay.max / 1e6).toBeLessThan(200);
  });
});

describe("another client's current token", () => {
  // Neither long nor mixed enough to look like a token: only knowing it finds it.
  const OTHER_TOKEN = 'other-client-token';
  let tokens: RecordingServer;
  let app: Booted | undefined;
  beforeAll(async () => {
    tokens = await startRecordingServer({
      'POST /good/token': (_req, res) => json(res, 200, { access_token: OTHER_TOKEN, expires_in: 3600 }),
      'POST /echo/token': (_req, res) =>
        json(res, 400, {
          error: 'invalid_request',
          error_description: `you sent ${OTHER_TOKEN}, expected it elsewhere`,
        }),
      'POST /html/token': (_req, res) =>
        void res.writeHead(200, { 'content-type': 'text/html' }).end(`<p>last seen: ${OTHER_TOKEN}.</p>`),
    });
  });
  afterAll(() => tokens.close());
  afterEach(() => app?.close());

  it('is redacted from what any client reports', async () => {
    const client = (path: string): OAuthClientOptions => ({
      strategy: 'oauth2',
      tokenUrl: `${tokens.url}${path}`,
      clientId: 'c',
      clientSecret: 'client-secret-9',
    });
    app = await bootOAuth(
      { good: client('/good/token'), echo: client('/echo/token'), html: client('/html/token') },
      { retry: { maxAttempts: 1 } },
    );
    expect((await app.tokens.getToken('good')).accessToken).toBe(OTHER_TOKEN);

    const echoed = (await app.tokens.getToken('echo').catch((e: unknown) => e)) as TokenRequestError;
    expect(echoed.description).toBe('you sent [redacted], expected it elsewhere');
    const html = (await app.tokens.getToken('html').catch((e: unknown) => e)) as TokenRequestError;
    expect(html.bodySnippet).toBe('<p>last seen: [redacted].</p>');
    for (const text of [inspect(echoed, { depth: 10 }), inspect(html, { depth: 10 }), app.logger.text()])
      expect(text).not.toContain(OTHER_TOKEN);
  });
});
