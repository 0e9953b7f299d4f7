import type { ModulesContainer } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import type { AxiosInstance } from 'axios';

/**
 * Every axios instance behind an injectable `HttpService` of the app, each once: the process-wide
 * axios default bound by plain `HttpModule`, and the instances of `HttpModule.register(...)` /
 * `registerAsync(...)`, in whatever module they were imported. Recognised by shape (`axiosRef`
 * holding an axios instance) rather than by class, so a second copy of `@nestjs/axios` in
 * `node_modules` is found too.
 */
export function discoverHttpAxiosInstances(providers: Iterable<InstanceWrapper>): Set<AxiosInstance> {
  const found = new Set<AxiosInstance>();
  for (const wrapper of providers) {
    if (wrapper.isTransient || !wrapper.isDependencyTreeStatic()) continue;
    const axios =
      axiosRefOf(wrapper.instance) ??
      (wrapper.token === AXIOS_INSTANCE_TOKEN && isAxiosInstance(wrapper.instance) ? wrapper.instance : undefined);
    if (axios !== undefined) found.add(axios);
  }
  return found;
}

/**
 * Calls `created` with each axios instance Nest is still making (`HttpModule.registerAsync(...)`,
 * whose factory waits for its options) as soon as it exists: before the `HttpService` that wraps
 * it, which Nest creates only after that. Reads the load's settlement, which Nest sets on every
 * provider it starts loading; without one (another Nest), nothing is called.
 */
export function whenAxiosInstancesCreated(
  providers: Iterable<InstanceWrapper>,
  created: (axios: AxiosInstance) => void,
): void {
  for (const wrapper of providers) {
    if (wrapper.token !== AXIOS_INSTANCE_TOKEN || wrapper.isTransient || wrapper.instance != null) continue;
    void wrapper.settlementSignal?.asPromise().then(() => {
      if (isAxiosInstance(wrapper.instance)) created(wrapper.instance);
    });
  }
}

/** Every provider of every module of the app (what `DiscoveryService.getProviders()` walks). */
export function* providersOf(modules: ModulesContainer): Generator<InstanceWrapper> {
  for (const module of modules.values()) yield* module.providers.values();
}

/**
 * The token under which `HttpModule` provides the axios instance its `HttpService` wraps. Plain
 * `HttpModule` and `HttpModule.register()` provide it as a value, there before any provider is
 * created: found by it, their axios is joined before a provider's `onModuleInit` can call it, even
 * when that provider's `HttpService` is created after OAuthModule's interceptor.
 */
const AXIOS_INSTANCE_TOKEN = 'AXIOS_INSTANCE_TOKEN';

function axiosRefOf(instance: unknown): AxiosInstance | undefined {
  if (typeof instance !== 'object' || instance === null || !('axiosRef' in instance)) return undefined;
  const axios = (instance as { axiosRef: unknown }).axiosRef;
  return isAxiosInstance(axios) ? axios : undefined;
}

function isAxiosInstance(value: unknown): value is AxiosInstance {
  if (typeof value !== 'function' && (typeof value !== 'object' || value === null)) return false;
  const candidate = value as Partial<AxiosInstance>;
  return (
    typeof candidate.request === 'function' &&
    typeof candidate.getUri === 'function' &&
    typeof candidate.interceptors?.request?.use === 'function' &&
    typeof candidate.interceptors?.response?.use === 'function'
  );
}
