import 'reflect-metadata';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Controller, Get, Module, Param, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { lastValueFrom } from 'rxjs';
import { OAuthModule, type OAuthClientOptions } from '../../../lib/index.js';
import type { FakeClock, ProtectedResourceAnswer } from '../../../lib/testing/index.js';

/**
 * A real Nest app (platform-express, listening on 127.0.0.1:0) whose controller calls each
 * client's API through `HttpService` with no auth header of its own: the interceptor attaches
 * the token because the URL is under the client's `baseUrl` (the default `attachTo`).
 */
export async function startProviderApp(
  clients: Record<string, OAuthClientOptions>,
  clock: FakeClock,
): Promise<{ app: INestApplication; url: string; http: HttpService }> {
  @Controller()
  class ProxyController {
    constructor(private readonly http: HttpService) {}

    /** GET /call/<client>: the client's protected resource, as the upstream answered it. */
    @Get('call/:client')
    async call(@Param('client') client: string): Promise<ProtectedResourceAnswer> {
      const response = await lastValueFrom(this.http.get<ProtectedResourceAnswer>(`${clients[client]!.baseUrl}/ping`));
      return response.data;
    }
  }

  @Module({
    imports: [HttpModule, OAuthModule.forRoot({ clock, logger: false, clients })],
    controllers: [ProxyController],
  })
  class ProviderAppModule {}

  const app = await NestFactory.create(ProviderAppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, http: app.get(HttpService) };
}
