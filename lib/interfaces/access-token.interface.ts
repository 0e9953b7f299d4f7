/** A token as the library hands it out, whatever the provider's dialect. */
export interface AccessToken {
  accessToken: string;
  /** The provider's value as sent (`bearer`, `Bearer`, `BearerToken`); the header always says `Bearer`. */
  tokenType: string;
  /** Epoch milliseconds, by the module's clock. */
  expiresAt: number;
  scope?: string;
}

export interface TokenRequestOptions {
  /** Overrides the client's configured scope for this token. */
  scope?: string | string[];
  /** Skip the cache (an in-flight request for the same key is still shared). */
  forceRefresh?: boolean;
}

export interface InvalidateOptions {
  /** Only this scope's token; without it every token of the client is dropped. */
  scope?: string | string[];
  /** Drop the token only if the cache still holds this very access token (compare-and-invalidate). */
  accessToken?: string;
}

export interface ClientCredentials {
  clientId?: string;
  clientSecret: string;
}
