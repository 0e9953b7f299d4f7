import { Injectable } from '@nestjs/common';
import axios, { type AxiosInstance } from 'axios';
import type { Readable } from 'node:stream';
import { MAX_TOKEN_RESPONSE_BYTES } from '../oauth.constants.js';
import type { TokenHttpRequest, TokenHttpResponse } from '../strategies/token-strategy.interface.js';

/** Why no HTTP answer arrived. Holds no request data: axios errors carry headers and bodies. */
export class TransportFailure extends Error {
  constructor(
    readonly kind: 'network_error' | 'timeout',
    message: string,
  ) {
    super(message);
    this.name = 'TransportFailure';
  }
}

/**
 * Sends token requests through the library's own axios instance, which the bearer interceptor
 * never touches. One deadline covers connect, headers and body; bodies are cut at 1 MiB.
 */
@Injectable()
export class TokenHttpClient {
  private readonly http: AxiosInstance = axios.create({
    validateStatus: () => true,
    maxRedirects: 0,
    responseType: 'stream',
    transformResponse: [],
    headers: { 'user-agent': 'nestjs-client-credentials' },
  });

  /** `closed` aborts the request (the module is shutting down); it is not a timeout. */
  async send(request: TokenHttpRequest, timeoutMs: number, closed?: AbortSignal): Promise<TokenHttpResponse> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const abort = () => deadline.abort();
    if (closed?.aborted) abort();
    closed?.addEventListener('abort', abort, { once: true });
    try {
      const response = await this.http.request<Readable>({
        method: request.method,
        url: request.url,
        // Exactly the strategy's headers: without this, axios labels an empty POST body a form.
        headers: hasContentType(request.headers) ? request.headers : { ...request.headers, 'content-type': false },
        data: request.body,
        signal: deadline.signal,
      });
      const text = await readCapped(response.data, deadline.signal);
      return { status: response.status, headers: plainHeaders(response.headers), json: parseJson(text), text };
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

function readCapped(stream: Readable, signal: AbortSignal): Promise<string> {
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
        stream.destroy();
        finish();
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
    signal.addEventListener('abort', onAbort);
  });
}

function hasContentType(headers: Record<string, string>): boolean {
  return Object.keys(headers).some((name) => name.toLowerCase() === 'content-type');
}

function plainHeaders(headers: object): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value == null ? undefined : String(value);
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
  // axios messages are short ("connect ECONNREFUSED 127.0.0.1:80"); never include its config.
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}
