// V=base|lib N=calls: HttpService GETs through a stub adapter, with/without the library.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HttpModule, HttpService } from '@nestjs/axios';
import { firstValueFrom } from 'rxjs';
const { OAuthModule, TokenService } = await import(process.env.LIB ?? '/work/main/dist/esm/index.js');
const stub = async (config) => ({ data: { ok: true }, status: 200, statusText: 'OK', headers: {}, config, request: {} });
import { createServer } from 'node:http';
const server = createServer((req, res) => { req.resume(); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ access_token: 'x'.repeat(174), token_type: 'Bearer', expires_in: 3600 })); }); });
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const tokenOrigin = `http://127.0.0.1:${server.address().port}`;
const origin = 'http://127.0.0.1:9';
const imports = [HttpModule.register({ adapter: stub })];
if (process.env.V === 'lib') imports.push(OAuthModule.forRoot({ logger: false, clients: { api: { strategy: 'oauth2', tokenUrl: tokenOrigin + '/oauth/token', clientId: 'a', clientSecret: 'b', attachTo: [origin + '/api'] } } }));
class M {}
Module({ imports })(M);
const app = await NestFactory.createApplicationContext(M, { logger: false });
const http = app.get(HttpService);
if (process.env.V === 'lib') await app.get(TokenService).getToken('api');
const headers = process.env.V === 'lib' ? {} : { authorization: 'Bearer ' + 'x'.repeat(174) };
const N = Number(process.env.N);
for (let k = 0; k < N; k++) await firstValueFrom(http.get(origin + '/api/data', { headers }));
await app.close();
server.close();
