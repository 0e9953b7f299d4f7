import type { PrivateKeyInput } from '../client-auth/client-auth.options.js';

/** The algorithms a DPoP key may sign proofs with (RFC 9449; the ones servers support widely). */
export type DpopAlgorithm = 'ES256' | 'EdDSA' | 'RS256' | 'PS256';

/**
 * A client's DPoP key: `true` makes an ES256 key pair when the app boots (in memory only, one per
 * client, so tokens are bound to this process); a `key` (PEM, `KeyObject` or private JWK) is the
 * same for every replica that is given it. The algorithm follows the key type unless set.
 */
export type DpopOption = true | { key?: PrivateKeyInput; algorithm?: DpopAlgorithm };
