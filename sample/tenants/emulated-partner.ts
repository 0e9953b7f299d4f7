import { randomBytes } from 'node:crypto';
import { startEmulator, type Emulator, type EmulatorClock } from 'nestjs-client-credentials/testing';
import { type Merchant, type PartnerAccount, PARTNER_SCOPE, secretPathOf } from './merchants.js';
import type { SecretVault } from './secret-vault.js';

export interface EmulatedPartner {
  /** What onboarding would have stored for each merchant. */
  accounts: PartnerAccount[];
  /** The partner API: one host, one token endpoint, a client registered per merchant. */
  emulator: Emulator<'oauth2'>;
  close(): Promise<void>;
}

/**
 * The partner API, emulated by the library's `oauth2` emulator: one host with one token endpoint,
 * where each merchant's connection is a client registered on it (`registerClient`), with its own
 * client id, a fresh secret and its account at `/merchants/<account>`, which takes that client's
 * tokens only. The emulator's own client (`test-client`) is nobody's here. The secret goes into the
 * vault, as onboarding would put it there: the app is only told where to read it.
 */
export async function startEmulatedPartner(
  merchants: readonly Merchant[],
  vault: SecretVault,
  clock?: EmulatorClock,
): Promise<EmulatedPartner> {
  const emulator = await startEmulator('oauth2', { scopes: [PARTNER_SCOPE], clock });
  const accounts = merchants.map((merchant): PartnerAccount => {
    const clientId = `merchant-${merchant.id}`;
    const clientSecret = randomBytes(18).toString('base64url');
    const resourcePath = `/merchants/${merchant.account}`;
    emulator.registerClient({ clientId, clientSecret, resourcePath });
    vault.write(secretPathOf(merchant), clientSecret);
    return { merchant, clientId, tokenUrl: emulator.tokenUrl, apiUrl: `${emulator.baseUrl}${resourcePath}` };
  });
  return { accounts, emulator, close: () => emulator.close() };
}
