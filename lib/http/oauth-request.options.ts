/**
 * The per-request `oauth` option of axios / `HttpService` calls, typed by augmenting axios's
 * request config. Importing the package (or this file) brings the augmentation in.
 */

/** Object form of the per-request option. */
export interface OAuthRequestOptions {
  /** The client whose token to attach. Left out: the client whose `attachTo` matches the URL. */
  client?: string;
  /** A scope for this call's token, instead of the client's configured one. */
  scope?: string | string[];
  /**
   * After a 401 that rejected our token, retry once with a fresh one. Default: only for
   * idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE). `true` opts a POST/PATCH in, `false` opts out.
   */
  retryOn401?: boolean;
}

/**
 * `'name'` attaches that client's token; `{ client?, scope?, retryOn401? }` refines the choice;
 * `false` attaches nothing; left out, the `attachTo` match decides.
 */
export type OAuthRequestOption = string | false | OAuthRequestOptions;

declare module 'axios' {
  interface AxiosRequestConfig {
    /** nestjs-client-credentials: which client's bearer token this request carries. */
    oauth?: OAuthRequestOption;
  }
}
