// Under callgrind: boots, prints "ready", then on each stdin line runs N calls and prints "done".
import axios from '../node_modules/axios/index.js';
import { createInterface } from 'node:readline';
const stub = async (config) => ({ data: { ok: true }, status: 200, statusText: 'OK', headers: {}, config, request: {} });
const i = axios.create({ adapter: stub });
const v = process.env.V;
if (v === 'async') i.interceptors.request.use(async (c) => c);
const url = 'http://127.0.0.1:1234/api/data';
const N = Number(process.env.N ?? 2000);
for (let k = 0; k < N; k++) await i.get(url, { headers: { authorization: 'Bearer x' } });
console.log('ready');
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'quit') break;
  for (let k = 0; k < N; k++) await i.get(url, { headers: { authorization: 'Bearer x' } });
  console.log('done');
}
process.exit(0);
