/** Time source for every expiry, skew, refresh-ahead and cooldown decision. */
export interface OAuthClock {
  /** Epoch milliseconds. */
  now(): number;
  /**
   * Waits between token-endpoint attempts. Optional: without it a real timer is used.
   * A fake clock can advance itself here so retry backoff is tested without sleeping.
   */
  sleep?(ms: number): Promise<void>;
}
