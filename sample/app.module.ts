import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { OAuthModule, type OAuthClock } from 'nestjs-client-credentials';
import { OAuthHealthIndicator } from 'nestjs-client-credentials/terminus';
import { HealthController } from './api/health.controller.js';
import { ProvidersController } from './api/providers.controller.js';
import { PrometheusMetrics } from './observability/prometheus-metrics.js';
import { oauthOptionsFromConfig } from './config/oauth-options.factory.js';
import { PROVIDERS } from './providers.js';
import type { PartnerAccount } from './tenants/merchants.js';
import { MerchantsModule } from './tenants/merchants.module.js';
import { SecretVault } from './tenants/secret-vault.js';
import type { UpstreamApi } from './upstream/upstream-api.js';
import { upstreamApiToken, UpstreamModule } from './upstream/upstream.module.js';
import { Upstreams } from './upstream/upstreams.js';

export interface AppOptions {
  /** Settings for the emulated providers; real environment variables take precedence. */
  emulatedEnv?: Record<string, string>;
  clock?: OAuthClock;
  /** `--serve`: the OpenTelemetry SDK with its Prometheus exporter, for `GET /metrics`. */
  metrics?: PrometheusMetrics;
  /** The merchants' accounts at the partner API (their clients are added at runtime) and the vault of their secrets. */
  partner?: { accounts: readonly PartnerAccount[]; vault: SecretVault };
}

@Module({})
export class AppModule {
  static register({
    emulatedEnv = {},
    clock,
    metrics,
    partner = { accounts: [], vault: new SecretVault() },
  }: AppOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => emulatedEnv] }),
        OAuthModule.forRootAsync({
          isGlobal: true,
          inject: [ConfigService],
          useFactory: (config: ConfigService) => oauthOptionsFromConfig(config, clock),
        }),
        ...PROVIDERS.map((provider) => UpstreamModule.forProvider(provider)),
        MerchantsModule.register(partner.accounts, partner.vault),
        TerminusModule,
      ],
      controllers: [ProvidersController, HealthController],
      providers: [
        OAuthHealthIndicator,
        ...(metrics === undefined ? [] : [{ provide: PrometheusMetrics, useValue: metrics }]),
        {
          provide: Upstreams,
          inject: PROVIDERS.map(upstreamApiToken),
          useFactory: (...apis: UpstreamApi[]) => new Upstreams(apis),
        },
      ],
      exports: [Upstreams],
    };
  }
}
