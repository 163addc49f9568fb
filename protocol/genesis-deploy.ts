/**
 * The genesis extension of a deployed contract (public hosting, deploy.ts),
 * kept apart so messages.ts can use it without importing deploy.ts back.
 * No I/O here.
 */

import c from 'compact-encoding'
import type { Encoder, State } from 'compact-encoding'

/**
 * The genesis extension of a deployed contract: the BLAKE2b-256 of its encoded
 * deploy request (the registry log holds the request itself). It follows the
 * limits extension at the very end of the genesis record; a genesis without it
 * (a contract its operator hosts from a file) decodes to null, and older
 * readers skip it.
 */
export const deployExtension: Encoder<Uint8Array | null> = {
  preencode (state, m) { if (m) { c.uint.preencode(state, 1); c.fixed32.preencode(state, m) } },
  encode (state, m) { if (m) { c.uint.encode(state, 1); c.fixed32.encode(state, m) } },
  decode (state) {
    const n = c.uint.decode(state)
    return n >= 1 ? c.fixed32.decode(state) : null
  }
}

/** Decodes the trailing deploy extension when bytes are left in `state`, else null. */
export function decodeTrailingDeploy (state: State): Uint8Array | null {
  return state.start < state.end ? deployExtension.decode(state) : null
}
