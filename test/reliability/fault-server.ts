import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** What the fault server does with one connection, once the request has been read whole. */
export type Behaviour = (socket: Socket) => void;

/**
 * A raw TCP server on 127.0.0.1:0 speaking just enough HTTP/1.1 to misbehave on purpose: each
 * connection reads one request (headers + `content-length` body), then hands the socket to the
 * next scripted behaviour. It counts the sockets it holds, so a test can see that the client let go
 * of every connection it opened (a socket the client leaks stays open here).
 */
export interface FaultServer {
  url: string;
  /** Requests read so far. */
  readonly requests: number;
  /** Server-side sockets still open. */
  readonly openSockets: number;
  /** Behaviours for the next connections, in order; `fallback` after that. */
  script(...behaviours: Behaviour[]): void;
  fallback: Behaviour;
  close(): Promise<void>;
}

export async function startFaultServer(fallback: Behaviour): Promise<FaultServer> {
  const queue: Behaviour[] = [];
  const sockets = new Set<Socket>();
  let requests = 0;
  const state = { fallback };

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A client that goes away mid-write is the point of several cases: not an error here.
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
      socket.off('data', onData);
      requests++;
      (queue.shift() ?? state.fallback)(socket);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    get openSockets() {
      return sockets.size;
    },
    script: (...behaviours) => queue.push(...behaviours),
    get fallback() {
      return state.fallback;
    },
    set fallback(behaviour: Behaviour) {
      state.fallback = behaviour;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function head(status: string, headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return [`HTTP/1.1 ${status}`, ...lines, '', ''].join('\r\n');
}

/** A complete response; the server closes the connection after it. */
export const respond =
  (status: string, body: string, contentType = 'application/json', extra: Record<string, string> = {}): Behaviour =>
  (socket) => {
    const bytes = Buffer.from(body);
    socket.end(
      head(status, { 'content-type': contentType, 'content-length': bytes.length, connection: 'close', ...extra }) +
        body,
    );
  };

export const tokenResponse = (accessToken = 'good-token', expiresIn = 3600): Behaviour =>
  respond('200 OK', JSON.stringify({ access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn }));

/** TCP reset before any byte of a response. */
export const resetAtOnce: Behaviour = (socket) => socket.resetAndDestroy();

/** Headers and part of the body promised by `content-length`, then a TCP reset. */
export const resetMidBody: Behaviour = (socket) => {
  const partial = '{"access_token":"half-a-tok';
  socket.write(head('200 OK', { 'content-type': 'application/json', 'content-length': 4096 }) + partial, () =>
    socket.resetAndDestroy(),
  );
};

/** Accepts the connection, reads the request and never answers. */
export const neverAnswer: Behaviour = () => undefined;

/** Slow-loris: a status line, then one header byte every 20 ms, never ending the headers. */
export const slowLorisHeaders: Behaviour = (socket) => {
  socket.write('HTTP/1.1 200 OK\r\nx-slow: ');
  const timer = setInterval(() => socket.write('a'), 20);
  socket.on('close', () => clearInterval(timer));
};

/** A complete HTTP response whose JSON body is cut off. */
export const truncatedJson: Behaviour = respond(
  '200 OK',
  '{"access_token":"abc","token_type":"Bearer","expires_in":36',
);

/** A 200 carrying an HTML page (a proxy's or a login page), labelled as JSON. */
export const htmlOk: Behaviour = respond(
  '200 OK',
  '<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Please sign in</h1></body></html>',
  'application/json',
);

/**
 * A body of `size` bytes, sent chunked (no content-length), written with backpressure; stops when
 * the client goes away.
 */
export const hugeBody =
  (status: string, size = 10 * 1024 * 1024): Behaviour =>
  (socket) => {
    socket.write(
      head(status, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', connection: 'close' }),
    );
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    chunk.write('{"access_token":"');
    let sent = 0;
    const pump = () => {
      while (sent < size && !socket.destroyed) {
        sent += chunk.length;
        const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
        if (!socket.write(frame)) {
          socket.once('drain', pump);
          return;
        }
      }
      if (!socket.destroyed) socket.end('0\r\n\r\n');
    };
    pump();
  };

export const status503: Behaviour = respond(
  '503 Service Unavailable',
  JSON.stringify({ error: 'temporarily_unavailable' }),
);
