import { logMessages } from '../observability/log-messages.js';
import { Inject, Injectable, type LoggerService, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { AxiosInstance } from 'axios';
import { OAUTH_LOGGER, LOG_CONTEXT } from '../oauth.constants.js';
import { TokenService } from '../token.service.js';
import { joinAxiosInstance, leaveAxiosInstance } from './axios-bearer.hook.js';
import { discoverHttpAxiosInstances } from './http-service.discovery.js';

/**
 * Puts `Authorization: Bearer …` on the app's outgoing `HttpService` calls. It joins each axios
 * instance's interceptor exactly once: when Nest creates it, for the axios instances that exist by
 * then (plain `HttpModule` and `HttpModule.register`, whose axios is made when the module is
 * declared), so that calls made in any provider's `onModuleInit`, whichever runs first, carry their
 * token; and again on module init, for those made later (`registerAsync`). On module destroy it
 * leaves them (the last participant ejects the interceptors).
 */
@Injectable()
export class OAuthHttpInterceptor implements OnModuleInit, OnModuleDestroy {
  private readonly joined = new Set<AxiosInstance>();

  constructor(
    private readonly tokens: TokenService,
    private readonly discovery: DiscoveryService,
    @Inject(OAUTH_LOGGER) private readonly logger: LoggerService,
  ) {
    // Before any onModuleInit of the app runs (Nest creates every provider first).
    this.join();
  }

  onModuleInit(): void {
    const participant = this.tokens.participant;
    for (const conflict of participant.conflicts) {
      this.logger.warn(logMessages.sharedPrefix(conflict.clients, `${conflict.origin}${conflict.path}`), LOG_CONTEXT);
    }
    this.join();
    this.logger.debug?.(logMessages.axiosJoined(this.joined.size), LOG_CONTEXT);
  }

  private join(): void {
    for (const axios of discoverHttpAxiosInstances(this.discovery)) {
      if (this.joined.has(axios)) continue;
      joinAxiosInstance(axios, this.tokens.participant);
      this.joined.add(axios);
    }
  }

  onModuleDestroy(): void {
    for (const axios of this.joined) leaveAxiosInstance(axios, this.tokens.participant);
    this.joined.clear();
  }
}
