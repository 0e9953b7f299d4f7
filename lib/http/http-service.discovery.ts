import type { DiscoveryService } from '@nestjs/core';
import type { AxiosInstance } from 'axios';

/**
 * Every axios instance behind an injectable `HttpService` of the app, each once: the process-wide
 * axios default bound by plain `HttpModule`, and the instances of `HttpModule.register(...)` /
 * `registerAsync(...)`, in whatever module they were imported. Recognised by shape (`axiosRef`
 * holding an axios instance) rather than by class, so a second copy of `@nestjs/axios` in
 * `node_modules` is found too.
 */
export function discoverHttpAxiosInstances(discovery: DiscoveryService): Set<AxiosInstance> {
  const found = new Set<AxiosInstance>();
  for (const wrapper of discovery.getProviders()) {
    if (wrapper.isTransient || !wrapper.isDependencyTreeStatic()) continue;
    const axios = axiosRefOf(wrapper.instance);
    if (axios !== undefined) found.add(axios);
  }
  return found;
}

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
