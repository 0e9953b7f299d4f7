import type { OnModuleDestroy } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { AxiosInstance } from 'axios';
import { holdAxiosInstance } from './axios-bearer.hook.js';
import { discoverHttpAxiosInstances, providersOf, whenAxiosInstancesCreated } from './http-service.discovery.js';

/**
 * Longest a call waits for OAuthModule when the app never finishes starting (a provider's
 * constructor threw): then it goes on as if the library were absent. Unref'd, never keeps a process up.
 */
const LONGEST_HOLD_MS = 60_000;

/**
 * The first thing OAuthModule creates. Nest creates providers concurrently, so a provider of the app
 * can be created, and call its `HttpService` in its constructor, before OAuthModule's interceptor
 * exists. From here until the interceptor has joined (`end`), every call on the app's
 * HttpService axios instances waits; it then gets the token it should carry. Depends on nothing
 * but Nest's own module container, so Nest creates it in its first steps.
 */
export class AxiosStartupHold implements OnModuleDestroy {
  private release!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));
  private readonly timer: NodeJS.Timeout;
  private ended = false;
  /** Given by the interceptor when it ends the hold: an axios instance Nest makes after that is joined. */
  private join: ((axios: AxiosInstance) => void) | undefined;

  constructor(modules: ModulesContainer) {
    for (const axios of discoverHttpAxiosInstances(providersOf(modules))) holdAxiosInstance(axios, this.released);
    // `registerAsync`: its axios is made later, but before its HttpService can be called.
    whenAxiosInstancesCreated(providersOf(modules), (axios) => {
      if (!this.ended) holdAxiosInstance(axios, this.released);
      else this.join?.(axios);
    });
    this.timer = setTimeout(() => this.end(), LONGEST_HOLD_MS);
    this.timer.unref();
  }

  /**
   * The interceptor has joined the instances there are: held calls go on, through it. `join` takes
   * each instance Nest makes from now on (none when the app closes or never finished starting).
   */
  end(join?: (axios: AxiosInstance) => void): void {
    this.ended = true;
    this.join = join;
    clearTimeout(this.timer);
    this.release();
  }

  onModuleDestroy(): void {
    this.end();
  }
}

export const AXIOS_STARTUP_HOLD_PROVIDER = {
  provide: AxiosStartupHold,
  useFactory: (modules: ModulesContainer) => new AxiosStartupHold(modules),
  inject: [ModulesContainer],
};
