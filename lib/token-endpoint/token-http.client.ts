import { Injectable } from '@nestjs/common';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { TokenTransport } from '../config/resolved-client.js';
import { MAX_TOKEN_RESPONSE_BYTES } from '../oauth.constants.js';
import type { TokenHttpRequest, TokenHttpResponse } from '../strategies/token-strategy.interface.js';
import { proxyAuthorization, proxyFor } from './proxy.js';

/** Why no HTTP answer arrived. Holds no request data, no key, no passphrase, no proxy credentials. */
export class TransportFailure extends Error {
  constructor(
    readonly kind: 'network_error' | 'timeout',
    message: string,
  ) {
    super(message);
    this.name = 'TransportFailure';
  }
}

const USER_AGENT = 'nestjs-client-credentials';

/**
 * Sends token requests on Node's own HTTP stack (no axios, and nothing the app's interceptors
 * touch), one connection per request. One deadline covers proxy tunnel, TLS, headers and body;
 * bodies are cut at 1 MiB; redirects are not followed; `closed` aborts (the module is closing).
 */
@Injectable()
export class TokenHttpClient {
  async send(
    request: TokenHttpRequest,
    timeoutMs: number,
    closed?: AbortSignal,
    transport: TokenTransport = {},
  ): Promise<TokenHttpResponse> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const abort = () => deadline.abort();
    if (closed?.aborted) abort();
    closed?.addEventListener('abort', abort, { once: true });
    try {
      const response = await exchange(request, transport, deadline.signal);
      const text = await readCapped(response, deadline.signal);
      return { status: response.statusCode ?? 0, headers: plainHeaders(response.headers), json: parseJson(text), text };
    } catch (error) {
      if (closed?.aborted) throw new TransportFailure('network_error', 'aborted: OAuthModule was closed');
      if (deadline.signal.aborted) throw new TransportFailure('timeout', `no answer within ${timeoutMs} ms`);
      throw new TransportFailure('network_error', describeNetworkError(error));
    } finally {
      clearTimeout(timer);
      closed?.removeEventListener('abort', abort);
    }
  }
}

/** One request and its response head, directly or through the proxy the transport names. */
async function exchange(
  request: TokenHttpRequest,
  transport: TokenTransport,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const target = new URL(request.url);
  const proxy = proxyFor(target, transport);
  const secure = target.protocol === 'https:';
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...request.headers };
  // Exactly the strategy's headers, plus the length (an empty POST says 0 rather than going chunked).
  if (request.body !== undefined || request.method !== 'GET') {
    headers['content-length'] = String(request.body === undefined ? 0 : Buffer.byteLength(request.body));
  }

  let options: RequestOptions;
  if (proxy !== undefined && !secure) {
    // Plain HTTP through a proxy: the absolute URL in the request line, to the proxy.
    const auth = proxyAuthorization(proxy);
    options = {
      ...endpointOf(proxy),
      path: target.href,
      headers: { ...headers, host: target.host, ...(auth === undefined ? {} : { 'proxy-authorization': auth }) },
    };
    return send(proxy.protocol === 'https:' ? httpsRequest : httpRequest, options, request, signal);
  }
  // HTTPS through a proxy: a CONNECT tunnel, then TLS with the target inside it.
  const tunnel = proxy === undefined ? undefined : await openTunnel(proxy, target, signal);
  const tls = tlsOptions(target, transport);
  options = {
    ...endpointOf(target),
    path: `${target.pathname}${target.search}`,
    headers,
    // One connection per token request, made here: through the tunnel when there is one.
    createConnection: () => {
      if (!secure) return netConnect(endpointOf(target));
      return tlsConnect({ ...tls, ...(tunnel === undefined ? endpointOf(target) : { socket: tunnel }) });
    },
  };
  return send(secure ? httpsRequest : httpRequest, options, request, signal);
}

function send(
  requestFn: typeof httpRequest,
  options: RequestOptions,
  request: TokenHttpRequest,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = requestFn({ ...options, method: request.method, signal }, resolve);
    req.once('error', reject);
    req.end(request.body);
  });
}

/** `CONNECT host:port` at the proxy; the socket it hands back carries the TLS session to the target. */
function openTunnel(proxy: URL, target: URL, signal: AbortSignal): Promise<Socket> {
  const authority = `${target.hostname}:${target.port || '443'}`;
  const auth = proxyAuthorization(proxy);
  const requestFn = proxy.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = requestFn({
      ...endpointOf(proxy),
      method: 'CONNECT',
      path: authority,
      headers: {
        host: authority,
        'user-agent': USER_AGENT,
        ...(auth === undefined ? {} : { 'proxy-authorization': auth }),
      },
      agent: false,
      signal,
    });
    req.once('connect', (response: IncomingMessage, socket: Socket) => {
      const status = response.statusCode ?? 0;
      if (status >= 200 && status < 300) return resolve(socket);
      socket.destroy();
      reject(new Error(`the proxy answered ${status} to CONNECT`));
    });
    req.once('error', reject);
    req.end();
  });
}

function endpointOf(url: URL): { host: string; port: number } {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { host, port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80) };
}

/** The client's TLS material, and SNI for a host name (not for an IP address, which TLS forbids). */
function tlsOptions(target: URL, transport: TokenTransport): ConnectionOptions {
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const { cert, key, ca, passphrase, pfx } = transport.tls ?? {};
  return { cert, key, ca, passphrase, pfx, ...(isIP(host) === 0 ? { servername: host } : {}) };
}

function readCapped(stream: IncomingMessage, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => {
      cleanup();
      resolve(Buffer.concat(chunks).subarray(0, MAX_TOKEN_RESPONSE_BYTES).toString('utf8'));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_TOKEN_RESPONSE_BYTES) {
        finish();
        stream.destroy(); // the rest is never read
      }
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onAbort = () => {
      stream.destroy();
      onError(new Error('aborted'));
    };
    const cleanup = () => {
      stream.off('data', onData).off('end', finish).off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    stream.on('data', onData).on('end', finish).on('error', onError);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
  });
}

function plainHeaders(headers: IncomingMessage['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function parseJson(text: string): unknown {
  if (text.trim().length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  // Node's messages are short ("connect ECONNREFUSED 127.0.0.1:80", "bad decrypt"): no request data.
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}
