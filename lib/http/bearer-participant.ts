import type { AccessToken } from '../interfaces/access-token.interface.js';
import type { AttachToMatch } from './attach-to.matcher.js';

/**
 * One OAuthModule instance as seen by an axios instance: its clients, their `attachTo` prefixes
 * and its TokenService. Several apps in one process may share an axios instance (plain `HttpModule`
 * binds the process-wide axios default); each registers as a participant of ONE hook.
 */
/** Makes a client's DPoP proofs: one per request and per redirect hop (`ath` binds it to the token). */
export interface DpopSigner {
  proof(method: string, url: string, accessToken: string): string;
}

export interface BearerParticipant {
  knows(client: string): boolean;
  match(url: URL): AttachToMatch | undefined;
  isTokenEndpoint(url: URL): boolean;
  /** The cached token when it may be served now, without I/O; `undefined` sends the caller to `getToken`. */
  cachedToken(client: string, scope: string | string[] | undefined): AccessToken | undefined;
  getToken(client: string, scope: string | string[] | undefined): Promise<AccessToken>;
  /** `Bearer <token>`, or `DPoP <token>` for a DPoP client's DPoP-bound token. */
  authorization(client: string, token: AccessToken): string;
  /**
   * What signs this token's DPoP proofs, when it is DPoP-bound; `undefined` for a bearer call (most
   * calls), so a transport computes the request URL a proof names only when there is a proof to make.
   */
  dpopSigner(client: string, token: AccessToken): DpopSigner | undefined;
  /** Keeps the `DPoP-Nonce` of an answer to a DPoP call, for the next proof to that origin. */
  dpopNonce(client: string, url: string, nonce: string | null | undefined): void;
  /** Reports a call sent once more after a DPoP nonce demand (the token is kept). */
  nonceRetried(client: string): void;
  /** Compare-and-invalidate after a 401: drops `accessToken` only if it is still the cached one. */
  rejected(
    client: string,
    scope: string | string[] | undefined,
    accessToken: string,
    willRetry: boolean,
  ): Promise<void>;
}
