import { randomBytes, randomUUID } from 'node:crypto';
import type { MintedToken, TokenGrant } from './emulator-dialect.js';
import type { EmulatorClock, ExpiresInForm, IssuedToken } from './emulator.types.js';
import type { TokenSigner } from './token-signer.js';

export interface MintSettings {
  format: 'jwt' | 'opaque';
  lifetimeSeconds: number;
  expiresIn: ExpiresInForm;
  issuer: string;
  extraClaims: Record<string, unknown>;
}

/** `expires_in` written the way a provider might: see `ExpiresInForm`. */
export function writeExpiresIn(
  form: ExpiresInForm,
  lifetimeSeconds: number,
  expiresAtMs: number,
): number | string | undefined {
  switch (form) {
    case 'seconds':
      return lifetimeSeconds;
    case 'string':
      return String(lifetimeSeconds);
    case 'absolute':
      return Math.floor(expiresAtMs / 1000);
    case 'absolute-ms':
      return expiresAtMs;
    case 'milliseconds':
      return lifetimeSeconds * 1000;
    case 'missing':
      return undefined;
  }
}

/** Mints tokens and remembers them, so the protected resource can tell live ones. */
export class TokenRegistry {
  readonly issued: IssuedToken[] = [];
  private readonly byToken = new Map<string, IssuedToken>();

  constructor(
    private readonly signer: TokenSigner,
    private readonly clock: EmulatorClock,
  ) {}

  mint(grant: TokenGrant, settings: MintSettings): MintedToken {
    const issuedAt = this.clock.now();
    // Whole seconds, so a JWT's `exp` and an absolute `expires_in` say the same instant.
    const expiresAt = (Math.floor(issuedAt / 1000) + settings.lifetimeSeconds) * 1000;
    const accessToken =
      settings.format === 'jwt'
        ? this.signer.jwt({
            iss: settings.issuer,
            sub: grant.clientId,
            aud: settings.issuer,
            iat: Math.floor(issuedAt / 1000),
            exp: expiresAt / 1000,
            jti: randomUUID(),
            client_id: grant.clientId,
            ...(grant.scope === undefined ? {} : { scope: grant.scope }),
            ...settings.extraClaims,
            // RFC 9449 §6.1: the key a DPoP-bound JWT is bound to.
            ...(grant.jkt === undefined ? {} : { cnf: { jkt: grant.jkt } }),
          })
        : randomBytes(28).toString('hex');
    const record: IssuedToken = {
      accessToken,
      clientId: grant.clientId,
      scope: grant.scope,
      issuedAt,
      expiresAt,
      revoked: false,
      ...(grant.jkt === undefined ? {} : { jkt: grant.jkt }),
    };
    this.issued.push(record);
    this.byToken.set(accessToken, record);
    return {
      accessToken,
      scope: grant.scope,
      expiresIn: writeExpiresIn(settings.expiresIn, settings.lifetimeSeconds, expiresAt),
      ...(grant.jkt === undefined ? {} : { jkt: grant.jkt }),
    };
  }

  /** The token's record when the resource should accept it now. */
  live(accessToken: string | undefined): IssuedToken | undefined {
    const record = accessToken === undefined ? undefined : this.byToken.get(accessToken);
    return record && !record.revoked && this.clock.now() < record.expiresAt ? record : undefined;
  }

  revoke(accessToken?: string): number {
    const targets =
      accessToken === undefined ? this.issued : [this.byToken.get(accessToken)].filter((r) => r !== undefined);
    let revoked = 0;
    for (const record of targets) {
      if (this.live(record.accessToken)) revoked++;
      record.revoked = true;
    }
    return revoked;
  }
}
