export { OAuthModule } from './oauth.module.js';
export type { OAuthModuleAsyncOptions } from './oauth.module-definition.js';
export { TokenService } from './token.service.js';
export { OAuthClients, type AddClientOptions } from './oauth-clients.service.js';
export { OAuthFetch, type FetchInput, type OAuthFetchInit } from './http/oauth-fetch.js';
export { fingerprint } from './common/fingerprint.js';
export type {
  CacheLookupResult,
  CooldownStartedEvent,
  OAuthEvent,
  OAuthEventBase,
  RefreshAheadEvent,
  RequestRetriedEvent,
  StoreAvailabilityEvent,
  TokenFailedEvent,
  TokenFetchedEvent,
} from './observability/oauth-event.js';
export type { OAuthRequestOption, OAuthRequestOptions } from './http/oauth-request.options.js';
export { OAuthError } from './errors/oauth.error.js';
export { OAuthConfigError, type OAuthConfigIssue } from './errors/oauth-config.error.js';
export { TokenRequestError, type TokenRequestErrorDetails } from './errors/token-request.error.js';
export type { OAuthErrorCode, Rfc6749ErrorCode } from './errors/oauth-error-code.js';
export type {
  AccessToken,
  ClientCredentials,
  InvalidateOptions,
  TokenRequestOptions,
} from './interfaces/access-token.interface.js';
export type {
  BaseClientOptions,
  BasicEncoding,
  BuiltInClientOptions,
  BuiltInStrategyName,
  ClientSecret,
  CredentialProvider,
  CustomClientOptions,
  OAuthClientOptions,
  RetryOptions,
  TokenPolicyOptions,
  TokenTlsOptions,
} from './interfaces/client-options.interface.js';
export type {
  ClientAssertionAlgorithm,
  ClientAssertionContext,
  ClientAssertionFactory,
  ClientAssertionOptions,
  ClientAuthMethod,
  ClientAuthOptions,
  PrivateKeyInput,
} from './client-auth/client-auth.options.js';
export type { DpopAlgorithm, DpopOption } from './dpop/dpop.options.js';
export type { AlternativePaymentsClientOptions } from './strategies/alternative-payments.strategy.js';
export type { FirstVisionClientOptions } from './strategies/firstvision.strategy.js';
export type { OAuth2ClientOptions } from './strategies/oauth2.strategy.js';
export type { PalisadeClientOptions } from './strategies/palisade.strategy.js';
export type { YouHodlerClientOptions } from './strategies/youhodler.strategy.js';
export type { OAuthClock } from './interfaces/clock.interface.js';
export type { OAuthModuleOptions, OAuthOptionsFactory } from './interfaces/oauth-module-options.interface.js';
export type {
  ConfigIssue,
  ProviderError,
  RawToken,
  TokenHttpRequest,
  TokenHttpResponse,
  TokenRequestContext,
  TokenStrategy,
} from './strategies/token-strategy.interface.js';
export {
  TokenStore,
  type SharedFailure,
  type StoredToken,
  type StoreEvictEvent,
  type TokenStoreContext,
} from './stores/token-store.interface.js';
export {
  basicAuthorization,
  formEncode,
  readRfc6749Error,
  readSnakeOrCamelToken,
} from './strategies/custom-strategy-helpers.js';
