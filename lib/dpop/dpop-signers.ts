import { Inject, Injectable } from '@nestjs/common';
import type { LibraryClock } from '../common/system-clock.js';
import type { ResolvedClient } from '../config/resolved-client.js';
import { OAUTH_CLOCK } from '../oauth.constants.js';
import type { DpopKey } from './dpop-key.js';
import { DpopNonces } from './dpop-nonces.js';
import { DpopProofs } from './dpop-proofs.js';

/** Each DPoP client's proof maker, all sharing the module's nonces (by origin) and clock. */
@Injectable()
export class DpopSigners {
  private readonly nonces = new DpopNonces();
  private readonly byKey = new WeakMap<DpopKey, DpopProofs>();

  constructor(@Inject(OAUTH_CLOCK) private readonly clock: LibraryClock) {}

  /** `undefined` for a client without DPoP. */
  of(client: ResolvedClient): DpopProofs | undefined {
    const key = client.dpop;
    if (key === undefined) return undefined;
    let proofs = this.byKey.get(key);
    if (proofs === undefined) {
      proofs = new DpopProofs(key, this.nonces, this.clock);
      this.byKey.set(key, proofs);
    }
    return proofs;
  }
}
