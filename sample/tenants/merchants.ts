/**
 * The platform's merchants that connect their account at one partner API (the case of
 * docs/many-clients.md): each gets its own client at the partner, added while the app runs.
 */
export interface Merchant {
  /** The platform's id; the OAuthModule client is `merchant:<id>`. */
  id: string;
  name: string;
  /** The merchant's account at the partner: its calls go to `<partner API>/merchants/<account>`. */
  account: string;
}

export const MERCHANTS: readonly Merchant[] = [
  { id: 'acme', name: 'Acme Outfitters', account: 'acct-1001' },
  { id: 'globex', name: 'Globex Coffee', account: 'acct-1002' },
  { id: 'initech', name: 'Initech Books', account: 'acct-1003' },
];

/** What onboarding stored for a connected merchant, as the platform's database would: never the secret. */
export interface PartnerAccount {
  merchant: Merchant;
  /** The client id the partner issued to this merchant's connection. */
  clientId: string;
  tokenUrl: string;
  /** The prefix of the merchant's account at the partner: the client's `attachTo`. */
  apiUrl: string;
}

/** The scope every merchant's client asks for. */
export const PARTNER_SCOPE = 'payments:read';

/** The client's name in `OAuthClients`, `getToken`, logs and metrics. */
export const clientNameOf = (merchant: Merchant) => `merchant:${merchant.id}`;

/** Where the vault keeps the merchant's client secret. */
export const secretPathOf = (merchant: Merchant) => `partner/${merchant.id}`;

/** The connected merchants' partner accounts, by merchant id. */
export class PartnerAccounts {
  private readonly byId: ReadonlyMap<string, PartnerAccount>;

  constructor(accounts: readonly PartnerAccount[]) {
    this.byId = new Map(accounts.map((account) => [account.merchant.id, account]));
  }

  get(id: string): PartnerAccount | undefined {
    return this.byId.get(id);
  }

  all(): PartnerAccount[] {
    return [...this.byId.values()];
  }
}
