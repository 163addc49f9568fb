/**
 * Host root statements (protocol `RootStatement`: contract, length, fork id,
 * tree hash, the log signer's signature) in JSON, as watchers keep them,
 * verdicts carry them and evidence quotes them. Byte strings are hex; the
 * contract key is z-base32.
 */

import type { RootStatement } from '../../protocol/index.js'
import { hex } from '../bytes.js'
import { formatKey, parseKey } from '../keys.js'

/** A host root statement in JSON form. */
export interface StatementJSON {
  contract: string
  length: number
  fork: number
  treeHash: string
  signature: string
}

/** JSON form of a root statement. */
export function statementToJSON (s: RootStatement): StatementJSON {
  return {
    contract: formatKey(s.contract),
    length: s.length,
    fork: s.fork,
    treeHash: hex(s.treeHash),
    signature: hex(s.signature)
  }
}

/** A root statement from its JSON form. @throws VmsError BAD_KEY on a bad contract key */
export function statementFromJSON (j: StatementJSON): RootStatement {
  return {
    contract: parseKey(j.contract),
    length: j.length,
    fork: j.fork,
    treeHash: Buffer.from(j.treeHash, 'hex'),
    signature: Buffer.from(j.signature, 'hex')
  }
}
