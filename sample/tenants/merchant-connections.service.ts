import { HttpService } from '@nestjs/axios';
import { Injectable } from '@nestjs/common';
import { OAuthClients } from 'nestjs-client-credentials';
import { lastValueFrom } from 'rxjs';
import type { PingResult } from '../upstream/upstream-api.js';
import { clientNameOf, type PartnerAccount, PartnerAccounts, PARTNER_SCOPE, secretPathOf } from './merchants.js';
import { SecretVault } from './secret-vault.js';

/**
 * Merchants connecting and disconnecting their partner account while the app runs: one
 * `OAuthClients` client each, whose secret is read from the vault for each token request. As
 * elsewhere in the app, the calls themselves hold no token handling: the merchant's client
 * attaches its token to every call under its account's URL.
 */
@Injectable()
export class MerchantConnections {
  constructor(
    private readonly clients: OAuthClients,
    private readonly http: HttpService,
    private readonly vault: SecretVault,
    private readonly accounts: PartnerAccounts,
  ) {}

  /** From the moment this resolves, the merchant's calls carry its own token. */
  async connect({ merchant, clientId, tokenUrl, apiUrl }: PartnerAccount): Promise<void> {
    await this.clients.add(clientNameOf(merchant), {
      strategy: 'oauth2',
      tokenUrl,
      clientId,
      clientSecret: () => this.vault.read(secretPathOf(merchant)),
      scope: PARTNER_SCOPE,
      attachTo: [apiUrl],
    });
  }

  /** Its client and its tokens are gone: no call carries them any more. */
  async disconnect({ merchant }: PartnerAccount): Promise<void> {
    await this.clients.remove(clientNameOf(merchant));
  }

  isConnected({ merchant }: PartnerAccount): boolean {
    return this.clients.has(clientNameOf(merchant));
  }

  account(id: string): PartnerAccount | undefined {
    return this.accounts.get(id);
  }

  all(): PartnerAccount[] {
    return this.accounts.all();
  }

  /** `GET <account>/ping`, whatever the answer (a 401 is a result here, not an exception). */
  async ping({ apiUrl }: PartnerAccount): Promise<PingResult> {
    const response = await lastValueFrom(this.http.get(`${apiUrl}/ping`, { validateStatus: () => true }));
    return { status: response.status, body: response.data };
  }
}
