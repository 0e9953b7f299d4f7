import { Inject, Injectable, type LoggerService, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { AxiosInstance } from 'axios';
import { fingerprint } from '../common/fingerprint.js';
import { OAuthClientRegistry } from '../config/client-registry.js';
import type { AccessToken } from '../interfaces/access-token.interface.js';
import { OAUTH_LOGGER, LOG_CONTEXT } from '../oauth.constants.js';
import { TokenService } from '../token.service.js';
import { AttachToMatcher, type AttachToMatch } from './attach-to.matcher.js';
import { joinAxiosInstance, leaveAxiosInstance } from './axios-bearer.hook.js';
import type { BearerParticipant } from './bearer-participant.js';
import { discoverHttpAxiosInstances } from './http-service.discovery.js';

/**
 * Puts `Authorization: Bearer …` on the app's outgoing `HttpService` calls. On module init it finds
 * every `HttpService` of the app and joins each axios instance's interceptor exactly once; on
 * module destroy it leaves them (the last participant ejects the interceptors).
 */
@Injectable()
export class OAuthHttpInterceptor implements BearerParticipant, OnModuleInit, OnModuleDestroy {
  private readonly matcher: AttachToMatcher;
  private readonly joined = new Set<AxiosInstance>();

  constructor(
    private readonly clients: OAuthClientRegistry,
    private readonly tokens: TokenService,
    private readonly discovery: DiscoveryService,
    @Inject(OAUTH_LOGGER) private readonly logger: LoggerService,
  ) {
    this.matcher = new AttachToMatcher([...clients.all()]);
  }

  onModuleInit(): void {
    for (const conflict of this.matcher.conflicts) {
      const clients = conflict.clients.map((c) => `"${c}"`).join(', ');
      const prefix = `${conflict.origin}${conflict.path}`;
      this.logger.warn(
        `OAuth clients ${clients} share the attachTo prefix ${prefix}; "${conflict.clients[0]}" is used for it`,
        LOG_CONTEXT,
      );
    }
    for (const axios of discoverHttpAxiosInstances(this.discovery)) {
      if (this.joined.has(axios)) continue;
      joinAxiosInstance(axios, this);
      this.joined.add(axios);
    }
    this.logger.debug?.(`Bearer interceptor joined ${this.joined.size} HttpService axios instance(s)`, LOG_CONTEXT);
  }

  onModuleDestroy(): void {
    for (const axios of this.joined) leaveAxiosInstance(axios, this);
    this.joined.clear();
  }

  knows(client: string): boolean {
    return this.clients.has(client);
  }

  match(url: URL): AttachToMatch | undefined {
    return this.matcher.match(url);
  }

  isTokenEndpoint(url: URL): boolean {
    return this.matcher.isTokenEndpoint(url);
  }

  cachedToken(client: string, scope: string | string[] | undefined): AccessToken | undefined {
    return this.tokens.cachedToken(client, scope);
  }

  getToken(client: string, scope: string | string[] | undefined): Promise<AccessToken> {
    return this.tokens.getToken(client, scope === undefined ? undefined : { scope });
  }

  async rejected(
    client: string,
    scope: string | string[] | undefined,
    accessToken: string,
    willRetry: boolean,
  ): Promise<void> {
    const next = willRetry ? 'retrying once with a fresh token' : 'not retried';
    this.logger.warn(
      `Upstream answered 401 to a call with token ${fingerprint(accessToken)} of OAuth client "${client}"; ${next}`,
      LOG_CONTEXT,
    );
    await this.tokens.invalidate(client, { scope, accessToken });
  }
}
