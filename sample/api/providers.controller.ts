import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { OAuthClients, OAuthConfigError, TokenRequestError, TokenService } from 'nestjs-client-credentials';
import { fingerprint } from 'nestjs-client-credentials';
import { Upstreams } from '../upstream/upstreams.js';

/** What `npm run sample -- --serve` exposes, to try with curl. Tokens never leave the app. */
@Controller()
export class ProvidersController {
  constructor(
    private readonly upstreams: Upstreams,
    private readonly tokens: TokenService,
    private readonly clients: OAuthClients,
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

  /** Every client's token: the providers' and the connected merchants' (`OAuthClients.names()`). */
  @Get('tokens')
  async list_tokens() {
    const tokens = await Promise.all(
      this.clients.names().map(async (client) => {
        try {
          const token = await this.tokens.getToken(client);
          return {
            client,
            fingerprint: fingerprint(token.accessToken),
            tokenType: token.tokenType,
            expiresAt: new Date(token.expiresAt).toISOString(),
          };
        } catch (error) {
          // Removed meanwhile (a merchant disconnected): not listed.
          if (error instanceof OAuthConfigError) return undefined;
          if (!(error instanceof TokenRequestError)) throw error;
          return { client, error: error.code, status: error.status };
        }
      }),
    );
    return tokens.filter((token) => token !== undefined);
  }
}
