import { HttpModule, HttpService } from '@nestjs/axios';
import { type DynamicModule, Module, type Provider as NestProvider, type Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { OAuthFetch } from 'nestjs-client-credentials';
import { OAuthDispatcher } from 'nestjs-client-credentials/undici';
import { envNames, type Provider } from '../providers.js';
import {
  overHttpService,
  overOAuthFetch,
  overUndici,
  type Caller,
  type Transport,
  UpstreamApi,
} from './upstream-api.js';
import { transportOf } from './upstreams.js';

export const upstreamApiToken = (provider: Provider) => `UpstreamApi:${provider.name}`;

/** What a transport needs in the module, what to inject, and how that becomes a `Caller`. */
interface Wiring<T> {
  imports: DynamicModule[];
  providers: NestProvider[];
  inject: Type<T>;
  caller(injected: T): Caller;
}
const wiring = <T>(w: Wiring<T>): Wiring<T> => w;

function wiringFor(transport: Transport): Wiring<unknown> {
  switch (transport) {
    case 'http':
      // Its own axios instance: OAuthModule finds it at app.init() and installs its interceptor.
      return wiring({
        imports: [HttpModule.register({ timeout: 10_000 })],
        providers: [],
        inject: HttpService,
        caller: overHttpService,
      });
    case 'fetch':
      // OAuthModule provides and exports OAuthFetch (global in this app, so nothing to import).
      return wiring({ imports: [], providers: [], inject: OAuthFetch, caller: overOAuthFetch });
    case 'undici':
      // Listed where TokenService can be injected; it closes its connections when the app closes.
      return wiring({ imports: [], providers: [OAuthDispatcher], inject: OAuthDispatcher, caller: overUndici });
  }
}

/** A small module per upstream API: the transport it calls over, and one `UpstreamApi`. */
@Module({})
export class UpstreamModule {
  static forProvider(provider: Provider): DynamicModule {
    const token = upstreamApiToken(provider);
    const { imports, providers, inject, caller } = wiringFor(transportOf(provider));
    return {
      module: UpstreamModule,
      imports,
      providers: [
        ...providers,
        {
          provide: token,
          inject: [inject, ConfigService],
          useFactory: (transport: unknown, config: ConfigService) => {
            const env = envNames(provider);
            const pingPath = config.get<string>(env.pingPath) ?? '/ping';
            return new UpstreamApi(provider, config.getOrThrow(env.baseUrl), pingPath, caller(transport));
          },
        },
      ],
      exports: [token],
    };
  }
}
