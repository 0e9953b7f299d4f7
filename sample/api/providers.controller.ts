import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { TokenRequestError, TokenService } from 'nestjs-client-credentials';
import { fingerprint } from 'nestjs-client-credentials';
import { Upstreams } from '../upstream/upstreams.js';

/** What `npm run sample -- --serve` exposes, to try with curl. Tokens never leave the app. */
@Controller()
export class ProvidersController {
  constructor(
    private readonly upstreams: Upstreams,
    private readonly tokens: TokenService,
  ) {}

  @Get('providers')
  list() {
    return this.upstreams
      .all()
      .map((api) => ({ name: api.provider.name, label: api.provider.label, baseUrl: api.baseUrl, via: api.via }));
  }

  @Get('providers/:name/ping')
  async ping(@Param('name') name: string) {
    const api = this.upstreams.get(name);
    if (!api) throw new NotFoundException(`no upstream API named "${name}"`);
    return { provider: name, ...(await api.ping()) };
  }

  @Get('tokens')
  async list_tokens() {
    return Promise.all(
      this.upstreams.all().map(async ({ provider }) => {
        try {
          const token = await this.tokens.getToken(provider.name);
          return {
            client: provider.name,
            fingerprint: fingerprint(token.accessToken),
            tokenType: token.tokenType,
            expiresAt: new Date(token.expiresAt).toISOString(),
          };
        } catch (error) {
          if (!(error instanceof TokenRequestError)) throw error;
          return { client: provider.name, error: error.code, status: error.status };
        }
      }),
    );
  }
}
