/**
 * The one rate limiter of the network layer: a token bucket (Turner, 1986;
 * as in RFC 2697's single-rate meters) holding at most `burst` tokens and
 * refilled at `rate` tokens per second. Used for a gossip peer's frames (in
 * and out) and for a connection's channel opens and rejected-work budget.
 */

/** A token bucket. */
export class TokenBucket {
  /** Most tokens held. */
  readonly burst: number
  /** Tokens added per second. */
  readonly rate: number
  private level: number
  private refilled: number

  /**
   * @param burst most tokens held
   * @param rate tokens added per second
   * @param initial tokens held at first (default: full)
   */
  constructor (burst: number, rate: number, initial = burst, now = Date.now()) {
    this.burst = burst
    this.rate = rate
    this.level = Math.min(burst, initial)
    this.refilled = now
  }

  /** Tokens held now (refilled for the time since the last look; negative after an overdraft). */
  tokens (now = Date.now()): number {
    this.level = Math.min(this.burst, this.level + (now - this.refilled) * this.rate / 1000)
    this.refilled = now
    return this.level
  }

  /** Takes `n` tokens if the bucket holds them. @returns false, taking none, when it holds fewer */
  take (n = 1, now = Date.now()): boolean {
    if (this.tokens(now) < n) return false
    this.level -= n
    return true
  }

  /** Takes `n` tokens even past empty (a cost already paid). @returns false when the bucket is then overdrawn */
  charge (n: number, now = Date.now()): boolean {
    this.level = this.tokens(now) - n
    return this.level >= 0
  }
}
