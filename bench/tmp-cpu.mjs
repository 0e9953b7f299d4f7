// CPU µs per HttpService call through a stub adapter, library vs static header, alternating rounds.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HttpModule, HttpService } from '@nestjs/axios';
import { firstValueFrom } from 'rxjs';
import { createServer } from 'node:http';
const { OAuthModule, TokenService } = await import(process.env.LIB ?? '../dist/esm/index.js');
const stub = async (config) => ({ data: { ok: true }, status: 200, statusText: 'OK', headers: {}, config, request: {} });
const server = createServer((req, res) => { req.resume(); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ access_token: 'x'.repeat(174), token_type: 'Bearer', expires_in: 3600 })); }); });
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const tokenOrigin = `http://127.0.0.1:${server.address().port}`;
const origin = 'http://127.0.0.1:9';
async function app(lib) {
  const imports = [HttpModule.register({ adapter: stub })];
  if (lib) imports.push(OAuthModule.forRoot({ logger: false, clients: { api: { strategy: 'oauth2', tokenUrl: tokenOrigin + '/oauth/token', clientId: 'a', clientSecret: 'b', attachTo: [origin + '/api'] } } }));
  class M {}
  Module({ imports })(M);
  const a = await NestFactory.createApplicationContext(M, { logger: false });
  if (lib) await a.get(TokenService).getToken('api');
  const http = a.get(HttpService);
  const headers = lib ? {} : { authorization: 'Bearer ' + 'x'.repeat(174) };
  return { a, call: () => firstValueFrom(http.get(origin + '/api/data', { headers })) };
}
const base = await app(false), lib = await app(true);
const N = 20000, R = Number(process.env.R ?? 12);
async function round(s) { const c0 = process.cpuUsage(); for (let k = 0; k < N; k++) await s.call(); const c = process.cpuUsage(c0); return (c.user + c.system) / N; }
await round(base); await round(lib); await round(base); await round(lib);
const b = [], l = [];
for (let r = 0; r < R; r++) { if (r % 2) { l.push(await round(lib)); b.push(await round(base)); } else { b.push(await round(base)); l.push(await round(lib)); } }
const med = (x) => [...x].sort((p, q) => p - q)[x.length >> 1];
const d = b.map((x, i) => l[i] - x);
console.log(`base ${med(b).toFixed(2)} µs  lib ${med(l).toFixed(2)} µs  added ${med(d).toFixed(2)} µs (min ${Math.min(...d).toFixed(2)}, max ${Math.max(...d).toFixed(2)})`);
await base.a.close(); await lib.a.close(); server.closeAllConnections(); server.close();
