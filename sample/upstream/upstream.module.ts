import { HttpModule, HttpService } from '@nestjs/axios';
import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { envNames, type Provider } from '../providers.js';
import { UpstreamApi } from './upstream-api.js';

export const upstreamApiToken = (provider: Provider) => `UpstreamApi:${provider.name}`;

/** A small module per upstream API: its own HttpModule and one `UpstreamApi`. */
@Module({})
export class UpstreamModule {
  static forProvider(provider: Provider): DynamicModule {
    const token = upstreamApiToken(provider);
    return {
      module: UpstreamModule,
      imports: [HttpModule.register({ timeout: 10_000 })],
      providers: [
        {
          provide: token,
          inject: [HttpService, ConfigService],
          useFactory: (http: HttpService, config: ConfigService) => {
            const env = envNames(provider);
            return new UpstreamApi(provider, config.getOrThrow(env.baseUrl), config.get(env.pingPath) ?? '/ping', http);
          },
        },
      ],
      exports: [token],
    };
  }
}
