import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/** What the proxy was asked: a CONNECT tunnel to `target`, or an absolute-form request for `url`. */
export type ProxyRecord =
  | { method: 'CONNECT'; target: string; proxyAuthorization: string | undefined }
  | { method: string; url: string; proxyAuthorization: string | undefined };

export type ProxyRefusal = 407 | 403;

export interface ConnectProxyOptions {
  /** Answer every request (CONNECT and absolute-form) with this status instead of forwarding it. */
  refuse?: ProxyRefusal;
}

/**
 * A loopback forward proxy on 127.0.0.1:0: tunnels CONNECT (for `https:` targets) and forwards
 * absolute-form plain-HTTP requests, recording each with the `Proxy-Authorization` it carried.
 */
export interface ConnectProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  records: ProxyRecord[];
  /** Start or stop refusing (`undefined` forwards again). */
  refuse(status: ProxyRefusal | undefined): void;
  /** Destroys every socket, client and upstream sides, then closes the server. */
  close(): Promise<void>;
}

const REASONS: Record<ProxyRefusal, string> = { 407: 'Proxy Authentication Required', 403: 'Forbidden' };

export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  let refusal = options.refuse;
  const records: ProxyRecord[] = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    return socket;
  };
  // No pooling upstream: every forwarded request's socket is tracked and ends with it.
  const upstreamAgent = new Agent({ keepAlive: false });

  const server: Server = createServer((req, res) => {
    const proxyAuthorization = req.headers['proxy-authorization'];
    records.push({ method: req.method ?? '', url: req.url ?? '', proxyAuthorization });
    if (refusal !== undefined) {
      const headers: Record<string, string> = { 'content-type': 'text/plain', connection: 'close' };
      if (refusal === 407) headers['proxy-authenticate'] = 'Basic realm="test-proxy"';
      req.resume();
      res.writeHead(refusal, headers).end(REASONS[refusal]);
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
      if (target.protocol !== 'http:') throw new Error('not http');
    } catch {
      req.resume();
      res.writeHead(400, { 'content-type': 'text/plain' }).end('a forward proxy takes absolute-form http URLs');
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port || 80,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers,
        agent: upstreamAgent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('socket', track);
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(error.message);
      else res.destroy();
    });
    req.pipe(upstream);
  });

  server.on('connect', (req, clientSocket: Socket, head: Buffer) => {
    const target = req.url ?? '';
    records.push({ method: 'CONNECT', target, proxyAuthorization: req.headers['proxy-authorization'] });
    clientSocket.on('error', () => clientSocket.destroy());
    if (refusal !== undefined) {
      const authenticate = refusal === 407 ? 'Proxy-Authenticate: Basic realm="test-proxy"\r\n' : '';
      clientSocket.end(
        `HTTP/1.1 ${refusal} ${REASONS[refusal]}\r\n${authenticate}Content-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      return;
    }
    const separator = target.lastIndexOf(':');
    const host = target.slice(0, separator).replace(/^\[|\]$/g, '');
    const port = Number(target.slice(separator + 1));
    if (separator <= 0 || !Number.isInteger(port) || port <= 0) {
      clientSocket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    let tunnelled = false;
    const upstream = track(connect(port, host));
    upstream.on('connect', () => {
      tunnelled = true;
      clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(clientSocket);
      clientSocket.pipe(upstream);
    });
    upstream.on('error', () => {
      if (!tunnelled) clientSocket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      else clientSocket.destroy();
    });
    clientSocket.on('close', () => upstream.destroy());
    upstream.on('close', () => clientSocket.destroy());
  });

  // Client-side sockets, including those handed over to a CONNECT tunnel.
  server.on('connection', track);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    records,
    refuse: (status) => {
      refusal = status;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        upstreamAgent.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A 127.0.0.1 port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
