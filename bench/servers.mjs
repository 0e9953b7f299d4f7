// The loopback upstream for the benchmarks, run in its own process (forked by bench/run.mjs and
// scripts/soak.mjs) so that its CPU is not the bench process's.
//
//   POST /oauth/token   client-credentials token endpoint. Issues JWT-shaped tokens (unsigned) whose
//                       claims carry `iat_ms`/`exp_ms` (epoch ms, fractional) and `exp` (s, rounded
//                       up). Latency, lifetime and a failure rate are set through /control.
//   GET  /api/data      the protected API. 401 unless the bearer is one of our
//                       tokens still valid now; echoes the token's `iat_ms` so the client can tell
//                       whether a call waited on the token endpoint (token issued after it began).
//   POST /control       JSON { tokenDelayMs?, expiresIn?, failureRate? }; GET /stats; POST /reset.
import { createServer } from 'node:http';

const nowMs = () => performance.timeOrigin + performance.now();
const config = { tokenDelayMs: 0, expiresIn: 3600, failureRate: 0 };
const stats = { tokenRequests: 0, tokenFailures: 0, apiCalls: 0, api401: 0, apiNoToken: 0, apiExpired: 0 };
let seq = 0;

const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const HEADER = b64({ alg: 'none', typ: 'JWT' });

function issue() {
  const iat = nowMs();
  const expMs = iat + config.expiresIn * 1000;
  return `${HEADER}.${b64({ sub: 'bench', seq: ++seq, iat_ms: iat, exp_ms: expMs, exp: Math.ceil(expMs / 1000) })}.sig`;
}

function claimsOf(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const path = req.url.split('?')[0];
    if (req.method === 'GET' && path === '/api/data') {
      stats.apiCalls++;
      const auth = req.headers.authorization ?? '';
      const token = auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
      if (token === undefined) {
        stats.apiNoToken++;
        stats.api401++;
        return send(res, 401, { error: 'no token' });
      }
      const claims = claimsOf(token);
      if (claims === undefined || typeof claims.exp_ms !== 'number') {
        stats.api401++;
        return send(res, 401, { error: 'unknown token' });
      }
      if (claims.exp_ms <= nowMs()) {
        stats.apiExpired++;
        stats.api401++;
        return send(res, 401, { error: 'expired token' });
      }
      return send(res, 200, { ok: true, iat: claims.iat_ms });
    }
    if (req.method === 'POST' && path === '/oauth/token') {
      stats.tokenRequests++;
      const answer = () => {
        if (config.failureRate > 0 && Math.random() < config.failureRate) {
          stats.tokenFailures++;
          return send(res, 503, { error: 'temporarily_unavailable' });
        }
        send(res, 200, { access_token: issue(), token_type: 'Bearer', expires_in: config.expiresIn });
      };
      return config.tokenDelayMs > 0 ? setTimeout(answer, config.tokenDelayMs) : answer();
    }
    if (req.method === 'POST' && path === '/control') {
      Object.assign(config, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
      return send(res, 200, config);
    }
    if (req.method === 'GET' && path === '/stats') return send(res, 200, { ...stats, ...config });
    if (req.method === 'POST' && path === '/reset') {
      for (const k of Object.keys(stats)) stats[k] = 0;
      return send(res, 200, stats);
    }
    send(res, 404, { error: `unexpected route ${req.method} ${path}` });
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 61_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ port: server.address().port });
});
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
