import { HttpModule } from '@nestjs/axios';
import { type DynamicModule, Module } from '@nestjs/common';
import { MerchantsController } from '../api/merchants.controller.js';
import { MerchantConnections } from './merchant-connections.service.js';
import { type PartnerAccount, PartnerAccounts } from './merchants.js';
import { SecretVault } from './secret-vault.js';

/** The merchants' partner accounts, the vault their secrets are in, and the connections. */
@Module({})
export class MerchantsModule {
  static register(accounts: readonly PartnerAccount[], vault: SecretVault): DynamicModule {
    return {
      module: MerchantsModule,
      // Its own axios instance; OAuthModule (global here) provides OAuthClients.
      imports: [HttpModule.register({ timeout: 10_000 })],
      controllers: [MerchantsController],
      providers: [
        { provide: SecretVault, useValue: vault },
        { provide: PartnerAccounts, useValue: new PartnerAccounts(accounts) },
        MerchantConnections,
      ],
      exports: [MerchantConnections],
    };
  }
}
