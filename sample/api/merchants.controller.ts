import { Controller, Delete, Get, HttpCode, NotFoundException, Param, Put } from '@nestjs/common';
import { MerchantConnections } from '../tenants/merchant-connections.service.js';
import { clientNameOf, type PartnerAccount } from '../tenants/merchants.js';

/** `--serve`: the merchants' partner accounts, connected and disconnected at runtime. */
@Controller('merchants')
export class MerchantsController {
  constructor(private readonly connections: MerchantConnections) {}

  @Get()
  list() {
    return this.connections.all().map((account) => this.describe(account));
  }

  @Get(':id/ping')
  async ping(@Param('id') id: string) {
    return { merchant: id, ...(await this.connections.ping(this.account(id))) };
  }

  /** Connects the merchant (adds its client); connecting a connected one changes nothing. */
  @Put(':id/connection')
  async connect(@Param('id') id: string) {
    const account = this.account(id);
    if (!this.connections.isConnected(account)) await this.connections.connect(account);
    return this.describe(account);
  }

  /** Disconnects the merchant (removes its client and its tokens). */
  @Delete(':id/connection')
  @HttpCode(204)
  async disconnect(@Param('id') id: string) {
    const account = this.account(id);
    if (this.connections.isConnected(account)) await this.connections.disconnect(account);
  }

  private account(id: string): PartnerAccount {
    const account = this.connections.account(id);
    if (account === undefined) throw new NotFoundException(`no merchant "${id}"`);
    return account;
  }

  private describe(account: PartnerAccount) {
    const { merchant, clientId, apiUrl } = account;
    const connected = this.connections.isConnected(account);
    return { id: merchant.id, name: merchant.name, client: clientNameOf(merchant), clientId, apiUrl, connected };
  }
}
