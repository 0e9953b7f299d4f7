import type { UpstreamApi } from './upstream-api.js';

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
