import { timingSafeEqual } from 'node:crypto';

/** The client the emulator knows, with the previous secret kept during a rotation grace period. */
export class CredentialBook {
  private previousSecrets: string[] = [];

  constructor(
    public clientId: string,
    public clientSecret: string,
  ) {}

  rotate(clientSecret: string, clientId = this.clientId, keepPrevious = false): void {
    this.previousSecrets =
      keepPrevious && clientId === this.clientId ? [...this.previousSecrets, this.clientSecret] : [];
    this.clientId = clientId;
    this.clientSecret = clientSecret;
  }

  matches(clientId: unknown, clientSecret: unknown): boolean {
    if (typeof clientId !== 'string' || typeof clientSecret !== 'string' || clientId !== this.clientId) return false;
    return this.validSecrets().some((secret) => sameString(secret, clientSecret));
  }

  /** The current secret and those still in their grace period (HS256 assertions are keyed by one). */
  validSecrets(): string[] {
    return [this.clientSecret, ...this.previousSecrets];
  }
}

function sameString(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
