/**
 * The caller side of a call: building and signing call requests, and
 * choosing nonces.
 */

import { callSignable, type CallRequest } from '../protocol/index.js'
import { sign, verify } from './crypto.js'
import type { KeyPair } from './crypto.js'

/**
 * Builds and signs a call request (domain tag `vms/call/v1`, contract key,
 * caller key, nonce, method, canonical args). The signature covers the
 * binary encoding of those fields (`callSignable`), with the arguments as
 * text: a host or watcher checks it without parsing any JSON, so a request
 * nobody signed is refused before its arguments cost anything.
 * @param identity the caller's key pair
 * @param contract contract key, 32 bytes
 * @param nonce per-caller nonce, larger than any the caller used on this contract
 * @param method method name
 * @param args canonical JSON of the argument array
 */
export function signCall (identity: KeyPair, contract: Uint8Array, nonce: number, method: string, args: string): CallRequest {
  const body = { contract, caller: identity.publicKey, nonce, method, args }
  return { ...body, signature: sign(callSignable(body), identity.secretKey) }
}

/** True when the request's signature verifies for its caller key (no JSON parsed; see {@link signCall}). */
export function verifyCall (req: CallRequest): boolean {
  return verify(callSignable(req), req.signature, req.caller)
}

/**
 * Nonces for one caller: microseconds since the epoch, strictly increasing
 * within the process, so a caller needs no stored counter and its nonces keep
 * growing across restarts (as long as its clock does not go back).
 */
export class NonceClock {
  private last = 0

  /** @param floor the next nonce will be above this (e.g. the host's last seen) */
  next (floor = 0): number {
    const now = Date.now() * 1000
    this.last = Math.max(now, this.last + 1, floor + 1)
    return this.last
  }
}
