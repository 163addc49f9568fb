/**
 * Proven RPC replies (host RPC v2): every `call` and `info` answer carries
 * what lets the caller check it with nothing but the contract key:
 *
 * - the log's signer (the manifest fields that hash to the contract key),
 * - a root statement (length, fork, tree hash) signed by that signer,
 * - an inclusion proof of one log block under that root: the block bytes,
 *   the Merkle nodes from its leaf up to the root of its subtree (the
 *   uncles), and every root of the tree at that length (Hypercore's flat
 *   tree, BLAKE2b leaf/parent/tree hashes of hypercore-crypto).
 *
 * Pure encodings, no I/O.
 */

import c from 'compact-encoding'
import type { Encoder } from 'compact-encoding'
import { signerRecord, type SignerRecord } from './attestation.js'
import { callResponse, contractInfo, errorRecord, rootStatement, type CallResponse, type ContractInfo, type ErrorRecord, type RootStatement } from './messages.js'

/** A Hypercore Merkle tree node: flat-tree index, byte size of the leaves below it, 32-byte hash. */
export interface TreeNodeRecord {
  index: number
  size: number
  hash: Uint8Array
}

/** Inclusion proof of log block `index` in the tree of some length. */
export interface BlockProof {
  /** Log block index. */
  index: number
  /** The block, exactly as stored. */
  block: Uint8Array
  /** Sibling nodes from the block's leaf up to the root of its subtree, bottom first. */
  uncles: TreeNodeRecord[]
  /** The tree's roots at the proven length, left to right (flat-tree full roots). */
  roots: TreeNodeRecord[]
}

/** A log block proven under a signed root. */
export interface ProvenBlock {
  signer: SignerRecord
  root: RootStatement
  proof: BlockProof
}

/** The `info` reply: the host's info (a hint) and its genesis block proven under its current root. */
export interface ProvenInfo {
  /** What the host says; only `methods` is used, as a hint (see VmsClient.info). */
  info: ContractInfo
  genesis: ProvenBlock
}

/**
 * The `call` reply: the call ran (its response and the record block proven
 * under the response's root), or the host rejected it (an unproven error).
 */
export type ProvenCallReply =
  | { accepted: true, response: CallResponse, signer: SignerRecord, proof: BlockProof }
  | { accepted: false, error: ErrorRecord }

/** Codec of {@link TreeNodeRecord}. */
export const treeNodeRecord: Encoder<TreeNodeRecord> = {
  preencode (state, m) { c.uint.preencode(state, m.index); c.uint.preencode(state, m.size); c.fixed32.preencode(state, m.hash) },
  encode (state, m) { c.uint.encode(state, m.index); c.uint.encode(state, m.size); c.fixed32.encode(state, m.hash) },
  decode (state) { return { index: c.uint.decode(state), size: c.uint.decode(state), hash: c.fixed32.decode(state) } }
}

const nodes = c.array(treeNodeRecord)

/** Codec of {@link BlockProof}. */
export const blockProof: Encoder<BlockProof> = {
  preencode (state, m) { c.uint.preencode(state, m.index); c.buffer.preencode(state, m.block); nodes.preencode(state, m.uncles); nodes.preencode(state, m.roots) },
  encode (state, m) { c.uint.encode(state, m.index); c.buffer.encode(state, m.block); nodes.encode(state, m.uncles); nodes.encode(state, m.roots) },
  decode (state) {
    return { index: c.uint.decode(state), block: c.buffer.decode(state), uncles: nodes.decode(state), roots: nodes.decode(state) }
  }
}

/** Codec of {@link ProvenBlock}. */
export const provenBlock: Encoder<ProvenBlock> = {
  preencode (state, m) { signerRecord.preencode(state, m.signer); rootStatement.preencode(state, m.root); blockProof.preencode(state, m.proof) },
  encode (state, m) { signerRecord.encode(state, m.signer); rootStatement.encode(state, m.root); blockProof.encode(state, m.proof) },
  decode (state) { return { signer: signerRecord.decode(state), root: rootStatement.decode(state), proof: blockProof.decode(state) } }
}

/** Codec of {@link ProvenInfo}. */
export const provenInfo: Encoder<ProvenInfo> = {
  preencode (state, m) { contractInfo.preencode(state, m.info); provenBlock.preencode(state, m.genesis) },
  encode (state, m) { contractInfo.encode(state, m.info); provenBlock.encode(state, m.genesis) },
  decode (state) { return { info: contractInfo.decode(state), genesis: provenBlock.decode(state) } }
}

/** Codec of {@link ProvenCallReply}. */
export const provenCallReply: Encoder<ProvenCallReply> = {
  preencode (state, m) {
    c.bool.preencode(state, m.accepted)
    if (m.accepted) { callResponse.preencode(state, m.response); signerRecord.preencode(state, m.signer); blockProof.preencode(state, m.proof) } else errorRecord.preencode(state, m.error)
  },
  encode (state, m) {
    c.bool.encode(state, m.accepted)
    if (m.accepted) { callResponse.encode(state, m.response); signerRecord.encode(state, m.signer); blockProof.encode(state, m.proof) } else errorRecord.encode(state, m.error)
  },
  decode (state) {
    return c.bool.decode(state)
      ? { accepted: true, response: callResponse.decode(state), signer: signerRecord.decode(state), proof: blockProof.decode(state) }
      : { accepted: false, error: errorRecord.decode(state) }
  }
}
