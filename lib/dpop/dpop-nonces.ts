/** Origins a module keeps nonces for before it starts over (a service talks to a handful). */
const MAX_ORIGINS = 1024;

/**
 * The latest `DPoP-Nonce` each origin sent (RFC 9449 §8, §9), shared by the module's clients: a
 * server's nonce is the server's, whichever client's request it answered.
 */
export class DpopNonces {
  private readonly byOrigin = new Map<string, string>();

  of(origin: string): string | undefined {
    return this.byOrigin.get(origin);
  }

  remember(origin: string, nonce: string): void {
    if (this.byOrigin.size >= MAX_ORIGINS && !this.byOrigin.has(origin)) this.byOrigin.clear();
    this.byOrigin.set(origin, nonce);
  }
}
