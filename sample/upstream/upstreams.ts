import type { Provider } from '../providers.js';
import type { Transport, UpstreamApi } from './upstream-api.js';

/**
 * How the app calls each upstream API: one over `OAuthFetch` (as a fetch-based generated client
 * would), one over undici with `OAuthDispatcher`, the rest over `HttpService`. Any provider works
 * over any transport; change a line here to see it.
 */
export const TRANSPORTS: Readonly<Record<string, Transport>> = {
  billing: 'fetch',
  'alternative-payments': 'undici',
};

export const transportOf = (provider: Provider): Transport => TRANSPORTS[provider.name] ?? 'http';

/** Every upstream API of the app, by client name. */
export class Upstreams {
  private readonly byName: ReadonlyMap<string, UpstreamApi>;

  constructor(apis: UpstreamApi[]) {
    this.byName = new Map(apis.map((api) => [api.provider.name, api]));
  }

  get(name: string): UpstreamApi | undefined {
    return this.byName.get(name);
  }

  all(): UpstreamApi[] {
    return [...this.byName.values()];
  }
}
