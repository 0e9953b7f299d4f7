import axios from '../node_modules/axios/index.js';
const stub = async (config) => ({ data: { ok: true }, status: 200, statusText: 'OK', headers: {}, config, request: {} });
const mk = () => axios.create({ adapter: stub });
const v = {
  none: mk(),
  asyncFn: mk(),
  plainInAsyncChain: mk(),
  sync: mk(),
};
v.asyncFn.interceptors.request.use(async (c) => c);
v.plainInAsyncChain.interceptors.request.use((c) => c);
v.sync.interceptors.request.use((c) => c, undefined, { synchronous: true });
for (const i of Object.values(v)) i.interceptors.response.use(undefined, (e) => { throw e; });
const url = 'http://127.0.0.1:1234/api/data';
const N = 20000;
async function round(i) { const c0 = process.cpuUsage(); for (let k = 0; k < N; k++) await i.get(url); const c = process.cpuUsage(c0); return (c.user + c.system) / N; }
const res = Object.fromEntries(Object.keys(v).map((k) => [k, []]));
for (let r = 0; r < 3; r++) for (const k in v) await round(v[k]);
for (let r = 0; r < 15; r++) for (const k of (r % 2 ? Object.keys(v).reverse() : Object.keys(v))) res[k].push(await round(v[k]));
const med = (x) => [...x].sort((p, q) => p - q)[x.length >> 1];
for (const k in v) console.log(k.padEnd(20), med(res[k]).toFixed(2), 'µs');
