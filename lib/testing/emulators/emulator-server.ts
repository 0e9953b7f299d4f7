import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { withoutTrailingSlashes } from '../../common/url.js';
import { readClientCertificate } from './client-certificate.js';
import { CredentialBook } from './credential-book.js';
import type { EmulatorDialect } from './emulator-dialect.js';
import { discoveryPaths, type EmulatorEndpoint } from './emulator-discovery.js';
import { dpopResourceErrorReply, dpopTokenErrorReply, DpopVerifier, readDpopProof } from './dpop-verifier.js';
import type {
  Emulator,
  EmulatorClientOptions,
  EmulatorClock,
  EmulatorDpopEndpoint,
  EmulatorErrorNames,
  EmulatorName,
  EmulatorOptions,
  EmulatorRequest,
  ExpiresInForm,
  FailNextOptions,
  IssuedToken,
  ProtectedResourceAnswer,
  RawReply,
  ScriptedFailure,
} from './emulator.types.js';
import { mediaType, readAccessToken } from './request-checks.js';
import { TokenRegistry } from './token-registry.js';
import { TokenSigner } from './token-signer.js';

const MAX_BODY_BYTES = 1024 * 1024;
const RESOURCE_PATHS = ['/ping', '/echo'];
const JWKS_PATH = '/.well-known/jwks.json';

type Queued<N extends EmulatorName> = {
  failure: ScriptedFailure<EmulatorErrorNames[N]>;
  on: NonNullable<FailNextOptions['on']>;
};

/** A path prefix as `/a/b` (or '' for none). */
function normaliseBasePath(basePath = ''): string {
  const trimmed = withoutTrailingSlashes(basePath).replace(/^\/+/, '');
  return trimmed === '' ? '' : `/${trimmed}`;
}

/**
 * The HTTP side every emulator shares: one `node:http` (or, with `tls`, `node:https`) server on
 * 127.0.0.1:0 that records each request, routes it to the token endpoint, the protected resource,
 * the metadata or the JWKS, plays scripted failures in order and adds latency. The dialect decides
 * what a valid request looks like and how answers are written.
 */
export class EmulatorServer<N extends EmulatorName> implements Emulator<N> {
  readonly requests: EmulatorRequest[] = [];
  private readonly credentials: CredentialBook;
  private readonly basePath: string;
  private readonly clock: EmulatorClock;
  private readonly queue: Queued<N>[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private registry!: TokenRegistry;
  private signer!: TokenSigner;
  private origin = '';
  private latencyMs: number;
  private lifetimeSeconds: number;
  private expiresInForm: ExpiresInForm;
  private readonly tokenFormat: 'jwt' | 'opaque';
  private readonly server: Server;
  private readonly scheme: 'http' | 'https';
  private readonly dpop?: DpopVerifier;

  constructor(
    private readonly dialect: EmulatorDialect<N>,
    options: EmulatorOptions,
    /** Answers before the dialect's own checks, e.g. a rate limit; `undefined` lets the request through. */
    private readonly gate?: (request: EmulatorRequest, now: number) => RawReply | undefined,
  ) {
    this.credentials = new CredentialBook(options.clientId ?? 'test-client', options.clientSecret ?? 'test-secret');
    this.basePath = normaliseBasePath(options.basePath);
    this.clock = options.clock ?? { now: () => Date.now() };
    this.latencyMs = options.latencyMs ?? 0;
    this.lifetimeSeconds = options.tokenLifetimeSeconds ?? 3600;
    this.expiresInForm = options.expiresIn ?? dialect.expiresIn;
    this.tokenFormat = options.tokenFormat ?? dialect.tokenFormat;
    if (dialect.dpop !== undefined) this.dpop = new DpopVerifier(dialect.dpop.requireNonce, this.clock);
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.scheme = options.tls === undefined ? 'http' : 'https';
    // A client certificate is asked for, never demanded: the dialect answers a missing one in its own words.
    this.server =
      options.tls === undefined
        ? createServer(handler)
        : createHttpsServer({ ...options.tls, requestCert: true, rejectUnauthorized: false }, handler);
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async listen(): Promise<this> {
    this.signer = await TokenSigner.create();
    this.registry = new TokenRegistry(this.signer, this.clock);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.origin = `${this.scheme}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  get name(): N {
    return this.dialect.name;
  }
  get baseUrl(): string {
    return this.origin + this.basePath;
  }
  get issuer(): string {
    return this.baseUrl;
  }
  get tokenUrl(): string {
    return this.baseUrl + this.dialect.tokenPath;
  }
  get resourceUrl(): string {
    return `${this.baseUrl}/ping`;
  }
  get clientId(): string {
    return this.credentials.clientId;
  }
  get clientSecret(): string {
    return this.credentials.clientSecret;
  }
  get tokenRequests(): EmulatorRequest[] {
    return this.requests.filter((r) => r.kind === 'token');
  }
  get resourceRequests(): EmulatorRequest[] {
    return this.requests.filter((r) => r.kind === 'resource');
  }
  get issuedTokens(): readonly IssuedToken[] {
    return this.registry.issued;
  }

  clientOptions(overrides: Partial<EmulatorClientOptions[N]> = {}): EmulatorClientOptions[N] {
    const credentials = { clientId: this.clientId, clientSecret: this.clientSecret };
    return { ...this.dialect.clientOptions(this.baseUrl, credentials), ...overrides };
  }

  failNext(failure: ScriptedFailure<EmulatorErrorNames[N]>, options: number | FailNextOptions = {}): this {
    const { times = 1, on = 'token' } = typeof options === 'number' ? { times: options } : options;
    for (let i = 0; i < times; i++) this.queue.push({ failure, on });
    return this;
  }

  setLatency(ms: number): this {
    this.latencyMs = ms;
    return this;
  }

  setTokenLifetime(seconds: number): this {
    this.lifetimeSeconds = seconds;
    return this;
  }

  setExpiresIn(form: ExpiresInForm): this {
    this.expiresInForm = form;
    return this;
  }

  setCredentials({
    clientId,
    clientSecret,
    keepPrevious,
  }: {
    clientId?: string;
    clientSecret: string;
    keepPrevious?: boolean;
  }): this {
    this.credentials.rotate(clientSecret, clientId, keepPrevious);
    return this;
  }

  registerClient({
    clientId,
    clientSecret,
    keepPrevious,
    resourcePath,
  }: {
    clientId: string;
    clientSecret: string;
    keepPrevious?: boolean;
    resourcePath?: string;
  }): this {
    if (typeof clientId !== 'string' || clientId === '' || typeof clientSecret !== 'string' || clientSecret === '') {
      throw new TypeError('registerClient: clientId and clientSecret must be non-empty strings');
    }
    const path = resourcePath === undefined ? undefined : normaliseBasePath(resourcePath);
    if (path === '') throw new TypeError(`registerClient: resourcePath "${resourcePath}" names no path`);
    this.credentials.register(clientId, clientSecret, keepPrevious, path);
    return this;
  }

  removeClient(clientId: string): this {
    if (!this.credentials.remove(clientId)) return this;
    for (const token of this.registry.issued) if (token.clientId === clientId) this.registry.revoke(token.accessToken);
    return this;
  }

  revoke(accessToken?: string): number {
    return this.registry.revoke(accessToken);
  }

  isLive(accessToken: string): boolean {
    return this.registry.live(accessToken) !== undefined;
  }

  dpopNonce(endpoint: EmulatorDpopEndpoint = 'token'): string | undefined {
    return this.dpop?.nonce(endpoint);
  }

  rotateDpopNonce(endpoint?: EmulatorDpopEndpoint): this {
    this.dpop?.rotate(endpoint);
    return this;
  }

  jwks() {
    return this.signer.jwks();
  }

  reset(): this {
    this.requests.length = 0;
    this.queue.length = 0;
    return this;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    if (!this.server.listening) return;
    await new Promise<void>((resolve, reject) => this.server.close((error) => (error ? reject(error) : resolve())));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const request = await this.record(req);
      const reply = await this.route(request);
      if (reply === 'drop') {
        req.socket.destroy();
        return;
      }
      send(res, reply);
    } catch {
      // The client went away mid-request (or the emulator closed): nothing left to answer.
      if (!res.headersSent && !res.destroyed) send(res, { status: 500, body: 'emulator error' });
    }
  }

  private async record(req: IncomingMessage): Promise<EmulatorRequest> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
    }
    const url = new URL(req.url ?? '/', 'http://emulator');
    const sub = url.pathname.startsWith(this.basePath) ? url.pathname.slice(this.basePath.length) : undefined;
    const body = Buffer.concat(chunks).toString('utf8');
    const isDiscovery = this.dialect.metadata !== undefined && discoveryPaths(this.basePath).includes(url.pathname);
    const certificate = readClientCertificate(req.socket);
    const dpop = readDpopProof(req.headers.dpop);
    const request: EmulatorRequest = {
      kind:
        sub === this.dialect.tokenPath
          ? 'token'
          : sub !== undefined && (RESOURCE_PATHS.includes(sub) || this.resourceOwner(sub) !== undefined)
            ? 'resource'
            : isDiscovery
              ? 'discovery'
              : 'other',
      method: req.method ?? 'GET',
      path: url.pathname,
      url: req.url ?? '/',
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      receivedAt: this.clock.now(),
      ...(certificate === undefined ? {} : { clientCertificate: certificate }),
      ...(dpop === undefined ? {} : { dpop }),
    };
    const type = mediaType(request);
    if (type === 'application/json' || type.endsWith('+json')) {
      try {
        request.json = JSON.parse(body);
      } catch {
        // Left undefined: the dialect answers a malformed body in its own words.
      }
    }
    if (type === 'application/x-www-form-urlencoded') request.form = Object.fromEntries(new URLSearchParams(body));
    this.requests.push(request);
    return request;
  }

  /** The answer, with the current DPoP nonce where the emulator hands one out. */
  private async route(request: EmulatorRequest): Promise<RawReply | 'drop'> {
    const reply = await this.answer(request);
    const { kind } = request;
    if (reply === 'drop' || this.dpop === undefined || (kind !== 'token' && kind !== 'resource')) return reply;
    return this.dpop.withNonce(reply, kind);
  }

  private async answer(request: EmulatorRequest): Promise<RawReply | 'drop'> {
    if (request.kind === 'other') {
      const isJwks =
        request.path === this.basePath + JWKS_PATH && request.method === 'GET' && this.tokenFormat === 'jwt';
      return isJwks ? { status: 200, body: this.signer.jwks() } : this.dialect.notFoundReply(request);
    }
    if (request.kind === 'token') await this.delay(this.latencyMs);
    const scripted = this.takeScripted(request);
    if (scripted !== undefined) return scripted;
    if (request.kind === 'discovery') {
      if (request.method !== 'GET') return this.dialect.methodNotAllowedReply(request);
      return { status: 200, body: this.dialect.metadata!(this.endpoint()) };
    }
    return request.kind === 'token' ? this.tokenEndpoint(request) : this.protectedResource(request);
  }

  private endpoint(): EmulatorEndpoint {
    return {
      issuer: this.issuer,
      tokenUrl: this.tokenUrl,
      ...(this.tokenFormat === 'jwt' ? { jwksUri: this.baseUrl + JWKS_PATH } : {}),
      mtls: this.scheme === 'https',
    };
  }

  private takeScripted(request: EmulatorRequest): RawReply | 'drop' | undefined {
    const index = this.queue.findIndex((q) => q.on === request.kind);
    if (index < 0) return undefined;
    const [{ failure }] = this.queue.splice(index, 1) as [Queued<N>];
    if (typeof failure === 'string') return this.dialect.errorReply(failure, {}, request);
    if ('drop' in failure) return 'drop';
    if ('error' in failure) {
      const { error, ...details } = failure;
      const reply = this.dialect.errorReply(error, details, request);
      if (details.retryAfterSeconds === undefined) return reply;
      return { ...reply, headers: { ...reply.headers, 'retry-after': String(details.retryAfterSeconds) } };
    }
    return failure;
  }

  private tokenEndpoint(request: EmulatorRequest): RawReply {
    if (request.method !== 'POST') return this.dialect.methodNotAllowedReply(request);
    const now = this.clock.now();
    const gated = this.gate?.(request, now);
    if (gated !== undefined) return gated;
    // The proof first: a nonce demand must not spend a client assertion's jti.
    const proof = this.dpop?.verify(request, { endpoint: 'token', method: request.method, url: this.tokenUrl });
    if (proof !== undefined && !proof.ok) return dpopTokenErrorReply(proof.error, proof.description);
    const check = this.dialect.checkTokenRequest(request, this.credentials, now, this.endpoint());
    if (!check.ok) return check.reply;
    const grant = proof === undefined ? check.grant : { ...check.grant, jkt: proof.jkt };
    const minted = this.registry.mint(grant, {
      format: this.tokenFormat,
      lifetimeSeconds: this.lifetimeSeconds,
      expiresIn: this.expiresInForm,
      issuer: this.baseUrl,
      extraClaims: this.dialect.jwtClaims?.(grant) ?? {},
    });
    request.clientId = grant.clientId;
    return this.dialect.tokenReply(minted, grant);
  }

  /** The registered client whose own resource `sub` (a path below the base path) is, if any. */
  private resourceOwner(sub: string): string | undefined {
    const slash = sub.lastIndexOf('/');
    if (slash <= 0 || !RESOURCE_PATHS.includes(sub.slice(slash))) return undefined;
    return this.credentials.clientAt(sub.slice(0, slash));
  }

  private protectedResource(request: EmulatorRequest): RawReply {
    const presented = readAccessToken(request);
    // Without DPoP the resource knows the Bearer scheme only.
    const known = presented !== undefined && (presented.scheme === 'Bearer' || this.dpop !== undefined);
    const live = known ? this.registry.live(presented.token) : undefined;
    // A client's own resource takes only its tokens; another client's is as good as unknown there.
    const owner = this.resourceOwner(request.path.slice(this.basePath.length));
    const record = owner === undefined || live?.clientId === owner ? live : undefined;
    if (presented === undefined || record === undefined) {
      if (presented?.scheme === 'DPoP' && known) {
        return dpopResourceErrorReply('invalid_token', 'invalid or expired access token');
      }
      const reply = this.dialect.invalidTokenReply(request);
      return { ...reply, headers: { 'www-authenticate': 'Bearer error="invalid_token"', ...reply.headers } };
    }
    if (record.jkt !== undefined || presented.scheme === 'DPoP') {
      const refused = this.bindingProblem(request, presented.token, presented.scheme, record.jkt);
      if (refused !== undefined) return refused;
    }
    request.clientId = record.clientId;
    if (request.path.endsWith('/ping') && request.method !== 'GET' && request.method !== 'HEAD') {
      return this.dialect.methodNotAllowedReply(request);
    }
    const answer: ProtectedResourceAnswer = {
      ok: true,
      provider: this.name,
      clientId: record.clientId,
      ...(record.scope === undefined ? {} : { scope: record.scope }),
      method: request.method,
      path: request.path,
      body: request.body,
      ...(record.jkt === undefined ? {} : { jkt: record.jkt }),
    };
    return { status: 200, body: answer };
  }

  /** RFC 9449 §7: a bound token only with the DPoP scheme and a proof by its key; an unbound one never with DPoP. */
  private bindingProblem(
    request: EmulatorRequest,
    token: string,
    scheme: 'Bearer' | 'DPoP',
    jkt: string | undefined,
  ): RawReply | undefined {
    if (jkt === undefined || this.dpop === undefined) {
      return dpopResourceErrorReply('invalid_token', 'a token that is not DPoP-bound must be sent as Bearer');
    }
    if (scheme !== 'DPoP') {
      return dpopResourceErrorReply('invalid_token', 'a DPoP-bound token must be sent as Authorization: DPoP');
    }
    const verdict = this.dpop.verify(request, {
      endpoint: 'resource',
      method: request.method,
      url: this.origin + request.path,
      accessToken: token,
      jkt,
    });
    return verdict.ok ? undefined : dpopResourceErrorReply(verdict.error, verdict.description);
  }

  private delay(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

function send(res: ServerResponse, reply: RawReply): void {
  const text = typeof reply.body === 'string' ? reply.body : reply.body === undefined ? '' : JSON.stringify(reply.body);
  const contentType = typeof reply.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
  const headers: Record<string, string> = {
    ...(reply.body === undefined ? {} : { 'content-type': contentType }),
    ...reply.headers,
  };
  res.writeHead(reply.status, headers).end(text);
}
