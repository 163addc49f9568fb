/**
 * The host's head statement: one signature by the contract's signer over the
 * call log root (length, fork, tree hash) and the files drive's database core
 * (length, tree hash) at one consistent point. A correct host signs one only
 * between group commits, when the drive is exactly at the version the log's
 * last record leaves (`filesAfter`, or the genesis `filesVersion`): a signed
 * head whose drive length is not that version proves files that no call
 * record covers. Pure encoding, no I/O.
 */

import c from 'compact-encoding'
import type { Encoder } from 'compact-encoding'
import { tagged } from './messages.js'

/** Domain tag of a host's signed head statement. */
export const TAG_HEAD = 'vms/head/v1'

/** A host's signed (log root, files head) pair. */
export interface HeadStatement {
  contract: Uint8Array
  /** Log length (blocks, genesis included), fork id and tree hash there. */
  length: number
  fork: number
  treeHash: Uint8Array
  /** Length of the files drive's database core (the drive version) and its tree hash there. */
  filesLength: number
  filesTreeHash: Uint8Array
  /** ed25519 by the genesis `signer` over {@link headSignable}. */
  signature: Uint8Array
}

type Body = Omit<HeadStatement, 'signature'>

const headBody: Encoder<Body> = {
  preencode (state, m) {
    c.fixed32.preencode(state, m.contract); c.uint.preencode(state, m.length); c.uint.preencode(state, m.fork); c.fixed32.preencode(state, m.treeHash)
    c.uint.preencode(state, m.filesLength); c.fixed32.preencode(state, m.filesTreeHash)
  },
  encode (state, m) {
    c.fixed32.encode(state, m.contract); c.uint.encode(state, m.length); c.uint.encode(state, m.fork); c.fixed32.encode(state, m.treeHash)
    c.uint.encode(state, m.filesLength); c.fixed32.encode(state, m.filesTreeHash)
  },
  decode (state) {
    return { contract: c.fixed32.decode(state), length: c.uint.decode(state), fork: c.uint.decode(state), treeHash: c.fixed32.decode(state), filesLength: c.uint.decode(state), filesTreeHash: c.fixed32.decode(state) }
  }
}

/** Codec of {@link HeadStatement} (the `head` RPC reply). */
export const headStatement: Encoder<HeadStatement> = {
  preencode (state, m) { headBody.preencode(state, m); c.fixed64.preencode(state, m.signature) },
  encode (state, m) { headBody.encode(state, m); c.fixed64.encode(state, m.signature) },
  decode (state) { return { ...headBody.decode(state), signature: c.fixed64.decode(state) } }
}

const TAG_HEAD_BYTES = Buffer.from(TAG_HEAD)

/** Bytes a host signs for a head statement: tag `vms/head/v1`, then the body. */
export function headSignable (s: Body): Uint8Array {
  return tagged(TAG_HEAD_BYTES, headBody, s)
}
