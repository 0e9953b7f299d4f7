import type { HttpService } from '@nestjs/axios';
import { lastValueFrom } from 'rxjs';
import type { Provider } from '../providers.js';

export interface PingResult {
  status: number;
  body: unknown;
}

/**
 * One upstream API. Note what is missing: no token handling at all. The OAuth interceptor puts
 * the provider's token on every request whose URL is under the client's `attachTo` (its baseUrl).
 */
export class UpstreamApi {
  constructor(
    readonly provider: Provider,
    readonly baseUrl: string,
    private readonly pingPath: string,
    private readonly http: HttpService,
  ) {}

  async ping(): Promise<PingResult> {
    const url = `${this.baseUrl.replace(/\/+$/, '')}/${this.pingPath.replace(/^\/+/, '')}`;
    const response = await lastValueFrom(this.http.get(url));
    return { status: response.status, body: response.data };
  }
}
