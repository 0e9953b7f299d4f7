import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tlsFixtures } from './tls-fixtures.js';

export interface RecordedMtlsRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** Subject CN of the certificate the client presented (always one: the server rejects the rest). */
  clientCN: string | undefined;
}

/**
 * A real mutual-TLS token endpoint on 127.0.0.1:0: it demands a client certificate signed by the
 * fixtures' CA (`requestCert`, `rejectUnauthorized`), and answers `POST /oauth/token` with a
 * token; other routes answer 599.
 */
export interface HttpsTokenServer {
  /** `https://127.0.0.1:<port>` */
  url: string;
  port: number;
  requests: RecordedMtlsRequest[];
  /** Handshakes the server refused (no client certificate, one it does not trust, …), by message. */
  tlsErrors: string[];
  close(): Promise<void>;
}

export const MTLS_TOKEN = { access_token: 'AT-mtls-1', token_type: 'Bearer', expires_in: 3600 };

export async function startHttpsTokenServer(): Promise<HttpsTokenServer> {
  const { ca, serverCert, serverKey } = await tlsFixtures();
  const requests: RecordedMtlsRequest[] = [];
  const tlsErrors: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer(
    { cert: serverCert, key: serverKey, ca, requestCert: true, rejectUnauthorized: true },
    async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      const path = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
      requests.push({
        method: req.method ?? '',
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        clientCN: typeof peer?.subject?.CN === 'string' ? peer.subject.CN : undefined,
      });
      if (req.method === 'POST' && path === '/oauth/token') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(MTLS_TOKEN));
      } else {
        res.writeHead(599, { 'content-type': 'text/plain' }).end(`unexpected route ${req.method} ${path}`);
      }
    },
  );
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  // The raw TCP socket and the TLS socket on top of it: destroying either ends the connection.
  server.on('connection', track);
  server.on('secureConnection', track);
  server.on('tlsClientError', (error) => tlsErrors.push(error.message));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    requests,
    tlsErrors,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const socket of sockets) socket.destroy();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
