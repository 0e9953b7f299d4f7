import { timingSafeEqual } from 'node:crypto';

/** A client the emulator knows: its secret, those still in a rotation grace period, its own resource path. */
interface RegisteredClient {
  secret: string;
  previousSecrets: string[];
  /** Below the base path, as `/merchants/acct-1` (never '' or a trailing slash). */
  resourcePath?: string;
}

/**
 * The clients the emulator knows: its own (from the options; `clientId`, `clientSecret`, `rotate`)
 * and any registered beside it, each with the previous secrets kept during a rotation grace period.
 */
export class CredentialBook {
  private readonly clients = new Map<string, RegisteredClient>();
  private ownId: string;

  constructor(clientId: string, clientSecret: string) {
    this.ownId = clientId;
    this.clients.set(clientId, { secret: clientSecret, previousSecrets: [] });
  }

  /** The emulator's own client. */
  get clientId(): string {
    return this.ownId;
  }

  get clientSecret(): string {
    return this.own().secret;
  }

  /** The emulator's own client gets a new secret (and a new id, if given). */
  rotate(clientSecret: string, clientId = this.ownId, keepPrevious = false): void {
    if (clientId !== this.ownId && this.clients.has(clientId)) {
      throw new TypeError(`setCredentials: "${clientId}" is a registered client; registerClient gives it a new secret`);
    }
    const own = this.own();
    const previousSecrets = keepPrevious && clientId === this.ownId ? [...own.previousSecrets, own.secret] : [];
    this.clients.delete(this.ownId);
    this.ownId = clientId;
    this.clients.set(clientId, { ...own, secret: clientSecret, previousSecrets });
  }

  /** Adds a client, or gives a known one a new secret (and resource path, if given). */
  register(clientId: string, clientSecret: string, keepPrevious = false, resourcePath?: string): void {
    const known = this.clients.get(clientId);
    const path = resourcePath ?? known?.resourcePath;
    const holder = path === undefined ? undefined : this.clientAt(path);
    if (holder !== undefined && holder !== clientId) {
      throw new TypeError(`registerClient: resourcePath "${path}" is already "${holder}"'s`);
    }
    this.clients.set(clientId, {
      secret: clientSecret,
      previousSecrets: keepPrevious && known !== undefined ? [...known.previousSecrets, known.secret] : [],
      ...(path === undefined ? {} : { resourcePath: path }),
    });
  }

  /** Forgets a registered client; false when it was not known. */
  remove(clientId: string): boolean {
    if (clientId === this.ownId) {
      throw new TypeError(`removeClient: "${clientId}" is the emulator's own client; setCredentials replaces it`);
    }
    return this.clients.delete(clientId);
  }

  knows(clientId: unknown): clientId is string {
    return typeof clientId === 'string' && this.clients.has(clientId);
  }

  matches(clientId: unknown, clientSecret: unknown): boolean {
    if (!this.knows(clientId) || typeof clientSecret !== 'string') return false;
    return this.validSecrets(clientId).some((secret) => sameString(secret, clientSecret));
  }

  /** The client's current secret and those still in their grace period (HS256 assertions are keyed by one). */
  validSecrets(clientId = this.ownId): string[] {
    const client = this.clients.get(clientId);
    return client === undefined ? [] : [client.secret, ...client.previousSecrets];
  }

  /** The client whose own resource lives at `resourcePath`, if any. */
  clientAt(resourcePath: string): string | undefined {
    for (const [clientId, client] of this.clients) if (client.resourcePath === resourcePath) return clientId;
    return undefined;
  }

  private own(): RegisteredClient {
    return this.clients.get(this.ownId)!;
  }
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
