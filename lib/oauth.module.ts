import { Module } from '@nestjs/common';
import { AXIOS_STARTUP_HOLD_PROVIDER } from './http/axios-startup-hold.js';
import { OAuthFetch } from './http/oauth-fetch.js';
import { OAuthHttpInterceptor } from './http/oauth-http.interceptor.js';
import { OAuthClients } from './oauth-clients.service.js';
import { ConfigurableModuleClass } from './oauth.module-definition.js';
import { OAUTH_OPTION_PROVIDERS } from './oauth.providers.js';
import { OBSERVABILITY_PROVIDERS } from './observability/observability.providers.js';
import { DpopSigners } from './dpop/dpop-signers.js';
import { TokenFetcher } from './token-endpoint/token-fetcher.js';
import { TokenHttpClient } from './token-endpoint/token-http.client.js';
import { RecentTokens } from './token-cache/recent-tokens.js';
import { TokenCache } from './token-cache/token-cache.js';
import { TokenService } from './token.service.js';

/**
 * OAuth 2.0 client-credentials tokens for the upstream APIs an app calls.
 * `OAuthModule.forRoot({ clients })` or `OAuthModule.forRootAsync({ useFactory, inject, isGlobal })`.
 */
@Module({
  providers: [
    // First: it must exist before any provider of the app can call its HttpService.
    AXIOS_STARTUP_HOLD_PROVIDER,
    ...OAUTH_OPTION_PROVIDERS,
    ...OBSERVABILITY_PROVIDERS,
    RecentTokens,
    TokenCache,
    TokenHttpClient,
    DpopSigners,
    TokenFetcher,
    TokenService,
    OAuthHttpInterceptor,
    OAuthFetch,
    OAuthClients,
  ],
  exports: [TokenService, OAuthFetch, OAuthClients],
})
export class OAuthModule extends ConfigurableModuleClass {}
