/**
 * Replay protection: the host keeps, per caller, the largest nonce the call
 * log holds, and accepts a request only with a larger one. Rebuilt from the
 * log when the host opens.
 */

import { VmsError } from '../errors.js'

/** Per-caller highest nonce, keyed by hex caller key. */
export class NonceTable {
  private readonly last = new Map<string, number>()

  /**
   * Reserves `nonce` for `caller` if it is larger than the last one.
   * @throws VmsError NONCE_REUSED
   */
  reserve (caller: Uint8Array, nonce: number): void {
    const id = Buffer.from(caller).toString('hex')
    const prev = this.last.get(id) ?? 0
    if (nonce <= prev) throw VmsError.NONCE_REUSED(`nonce ${nonce} is not above ${prev} for this caller`)
    this.last.set(id, nonce)
  }

  /** Records a nonce seen in the log (no check). */
  observe (caller: Uint8Array, nonce: number): void {
    const id = Buffer.from(caller).toString('hex')
    if (nonce > (this.last.get(id) ?? 0)) this.last.set(id, nonce)
  }

  /** The last nonce of `caller`, 0 when none. */
  get (caller: Uint8Array): number {
    return this.last.get(Buffer.from(caller).toString('hex')) ?? 0
  }

  /** Number of callers known. */
  get size (): number {
    return this.last.size
  }
}
