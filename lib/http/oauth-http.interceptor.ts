import { logMessages } from '../observability/log-messages.js';
import { Inject, Injectable, type LoggerService, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { AxiosInstance } from 'axios';
import { OAUTH_LOGGER, LOG_CONTEXT } from '../oauth.constants.js';
import { TokenService } from '../token.service.js';
import { joinAxiosInstance, leaveAxiosInstance } from './axios-bearer.hook.js';
import { AxiosStartupHold } from './axios-startup-hold.js';
import { discoverHttpAxiosInstances, providersOf } from './http-service.discovery.js';

/**
 * Puts `Authorization: Bearer …` on the app's outgoing `HttpService` calls. It joins each axios
 * instance's interceptor exactly once: when Nest creates it, for the axios instances that exist by
 * then (plain `HttpModule` and `HttpModule.register`, whose axios is made when the module is
 * declared), and for each `registerAsync` instance the moment Nest makes it; again on module init,
 * for any made later. Calls made before it exists (in a provider's constructor) were held by
 * AxiosStartupHold and go on through it. On module destroy it leaves them (the last participant
 * ejects the interceptors).
 */
@Injectable()
export class OAuthHttpInterceptor implements OnModuleInit, OnModuleDestroy {
  private readonly joined = new Set<AxiosInstance>();
  private destroyed = false;

  constructor(
    private readonly tokens: TokenService,
    private readonly modules: ModulesContainer,
    @Inject(OAUTH_LOGGER) private readonly logger: LoggerService,
    hold: AxiosStartupHold,
  ) {
    // Before any onModuleInit of the app runs (Nest creates every provider first); the calls the
    // hold kept waiting (made in constructors) go on through the interceptor from here.
    this.join();
    // `registerAsync` instances Nest is still making are handed over the moment they exist.
    hold.end((axios) => this.joinOne(axios));
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
    for (const axios of discoverHttpAxiosInstances(providersOf(this.modules))) this.joinOne(axios);
  }

  private joinOne(axios: AxiosInstance): void {
    if (this.destroyed || this.joined.has(axios)) return;
    joinAxiosInstance(axios, this.tokens.participant);
    this.joined.add(axios);
  }

  onModuleDestroy(): void {
    this.destroyed = true;
    for (const axios of this.joined) leaveAxiosInstance(axios, this.tokens.participant);
    this.joined.clear();
  }
}
