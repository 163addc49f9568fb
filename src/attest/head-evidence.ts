/**
 * Evidence of files written behind the log, checked offline: one head
 * statement signed by the contract's signer (protocol/head.ts: the log root
 * at length L and the files drive's database core at length D, paired by the
 * host at one point) and the log's last block at L (block L - 1), with its
 * inclusion under the signed log tree hash. When that block leaves the drive
 * at a version F (the record's `filesAfter`, or the genesis `filesVersion`)
 * and D is not F, the host signed a drive that no call record covers.
 *
 * Why one signature and not two: Hypercore signatures carry no time, so a
 * drive signature at D' beside an older log root at L (whose last record
 * names D < D') is what an honest host that logged more calls produces too.
 * A correct host signs a head pair only between group commits, when the
 * drive is exactly at F, so no such pair exists for it.
 *
 * The inclusion proof is Hypercore's Merkle tree (hypercore-crypto leaf,
 * parent and tree hashes over flat-tree indexes): the roots at length L, and
 * the sibling nodes from leaf L - 1 up to the last root.
 */

import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import flat from 'flat-tree'
import type Hypercore from 'hypercore'
import { headSignable, type HeadStatement, type SignerRecord } from '../../protocol/index.js'
import { verify } from '../crypto.js'
import { formatKey, parseKey } from '../keys.js'
import { hex } from '../bytes.js'
import { DEFAULT_NAMESPACE, signerMatches } from './signer.js'
import { decodeBlock, decodeGenesis } from '../log/contract-log.js'
import { readTreeNodes } from '../log/holepunch-internals.js'
import type { EvidenceCheck } from './evidence.js'
import safetyCatch from 'safety-catch'

/** A head statement in JSON (hex byte strings, z-base32 contract). */
export interface HeadJSON {
  contract: string
  length: number
  fork: number
  treeHash: string
  filesLength: number
  filesTreeHash: string
  signature: string
}

/** A Merkle node in JSON: flat-tree index, byte size, hash (hex). */
export interface NodeJSON { index: number, size: number, hash: string }

/** Inclusion of the last block of a log of `length` blocks under its tree hash. */
export interface LastBlockProof {
  length: number
  /** The tree's roots at `length`, in flat-tree order. */
  roots: NodeJSON[]
  /** Siblings from the last leaf up to the last root. */
  path: NodeJSON[]
}

/** JSON form of a head statement. */
export function headToJSON (h: HeadStatement): HeadJSON {
  return {
    contract: formatKey(h.contract),
    length: h.length,
    fork: h.fork,
    treeHash: hex(h.treeHash),
    filesLength: h.filesLength,
    filesTreeHash: hex(h.filesTreeHash),
    signature: hex(h.signature)
  }
}

/** A head statement from JSON. @throws VmsError BAD_KEY on a bad contract key */
export function headFromJSON (j: HeadJSON): HeadStatement {
  return {
    contract: parseKey(j.contract),
    length: Number(j.length),
    fork: Number(j.fork),
    treeHash: Buffer.from(j.treeHash, 'hex'),
    filesLength: Number(j.filesLength),
    filesTreeHash: Buffer.from(j.filesTreeHash, 'hex'),
    signature: Buffer.from(j.signature, 'hex')
  }
}

/** True when `h` is signed by `signer`, names `contract`, and `signer` is the manifest of that contract key. */
export function verifyHead (h: HeadStatement, contract: Uint8Array, signer: SignerRecord): boolean {
  try {
    return b4a.equals(h.contract, contract) && signerMatches(contract, signer) && verify(headSignable(h), h.signature, signer.publicKey)
  } catch {
    return false
  }
}

/**
 * The inclusion proof of block `length - 1` of `core` under its tree at
 * `length`, from the nodes the replica stores.
 * @throws when the replica lacks a node (not replicated)
 */
export async function lastBlockProof (core: Hypercore, length: number): Promise<LastBlockProof> {
  const roots = await Promise.all(flat.fullRoots(2 * length).map((i) => treeNode(core, i)))
  const path: NodeJSON[] = []
  const top = roots[roots.length - 1]!.index
  for (let i = 2 * (length - 1); i !== top; i = flat.parent(i)) path.push(await treeNode(core, flat.sibling(i)))
  return { length, roots, path }
}

/**
 * Checks that `block` is block `treeLength - 1` of the log whose tree hash
 * at `treeLength` is `treeHash`. Never throws.
 */
export function checkLastBlock (block: Uint8Array, proof: LastBlockProof, treeLength: number, treeHash: Uint8Array): boolean {
  try {
    if (!proof || proof.length !== treeLength || treeLength < 1) return false
    const want = flat.fullRoots(2 * treeLength)
    const roots = proof.roots.map(fromJSON)
    if (roots.length !== want.length || roots.some((r, k) => r.index !== want[k])) return false
    let cur = { index: 2 * (treeLength - 1), size: block.byteLength, hash: crypto.data(block) as Buffer }
    for (const p of proof.path.map(fromJSON)) {
      if (p.index !== flat.sibling(cur.index)) return false
      cur = { index: flat.parent(cur.index), size: cur.size + p.size, hash: crypto.parent(cur, p) as Buffer }
    }
    const last = roots[roots.length - 1]!
    if (last.index !== cur.index || last.size !== cur.size || !b4a.equals(last.hash, cur.hash)) return false
    return b4a.equals(crypto.tree(roots), treeHash)
  } catch {
    return false
  }
}

/** The parts of a watcher's fault evidence (src/watch/verdict.ts `Evidence`) a head check reads. */
export interface HeadEvidenceInput {
  contract?: string
  genesis?: string | null
  records?: Array<{ index: number, block: string }>
  head?: HeadJSON
  inclusion?: LastBlockProof
}

/**
 * Checks files-behind-the-log evidence offline: the genesis signer is the
 * key the contract key was made from; the head pair is signed by it for the
 * contract; the evidence's block `head.length - 1` is that log's last block
 * under the signed tree hash; and the drive length the host signed is not
 * the version that block leaves. Never throws.
 */
export function checkHeadEvidence (ev: HeadEvidenceInput): EvidenceCheck {
  const no = (reason: string): EvidenceCheck => ({ valid: false, kind: null, reason })
  try {
    if (!ev || typeof ev.contract !== 'string' || typeof ev.genesis !== 'string' || !ev.head || !ev.inclusion) return no('head evidence needs the contract, the genesis block, the signed head pair and the inclusion proof')
    const contract = parseKey(ev.contract)
    const genesisRaw = Buffer.from(ev.genesis, 'hex')
    const g = decodeGenesis(genesisRaw)
    if (!g) return no('the evidence genesis is not a genesis record')
    const signer: SignerRecord = { version: 1, publicKey: g.signer, namespace: DEFAULT_NAMESPACE }
    if (!signerMatches(contract, signer)) return no('the genesis signer is not the key of this contract')
    const h = headFromJSON(ev.head)
    if (!verifyHead(h, contract, signer)) return no('the head pair is not signed by the contract\'s signer (a root statement and a drive signature are not a head pair)')
    const index = h.length - 1
    const rec = index === 0 ? { index: 0, block: ev.genesis } : (ev.records ?? []).find((r) => r && r.index === index)
    if (!rec) return no(`the evidence lacks block ${index}, the log's last block at the signed head`)
    const raw = Buffer.from(rec.block, 'hex')
    if (!checkLastBlock(raw, ev.inclusion, h.length, h.treeHash)) return no(`block ${index} is not the last block of the log the head pair signs`)
    const b = decodeBlock(raw, index)
    const covered = b.type === 'genesis' ? b.genesis.filesVersion : b.call.filesAfter
    if (h.filesLength === covered) return no(`the signed head agrees with the log: the drive is at version ${covered}, the version block ${index} leaves`)
    return {
      valid: true,
      kind: 'files',
      reason: `the host signed its files drive at version ${h.filesLength} beside its log at length ${h.length}, whose last record leaves version ${covered}: files no call record covers`
    }
  } catch (err) {
    return no('malformed evidence: ' + (err as Error).message)
  }
}

function fromJSON (n: NodeJSON): { index: number, size: number, hash: Buffer } {
  return { index: Number(n.index), size: Number(n.size), hash: Buffer.from(n.hash, 'hex') }
}

/**
 * A tree node of a replica: from Hypercore's storage (internal API,
 * guarded), else worked out from the blocks below it.
 */
async function treeNode (core: Hypercore, index: number): Promise<NodeJSON> {
  const reading = readTreeNodes(core, [index])
  if (reading) {
    const [node] = await reading.catch((err) => { safetyCatch(err); return [null] })
    if (node) return { index: node.index, size: node.size, hash: hex(node.hash) }
  }
  const n = await nodeFromBlocks(core, index)
  return { index: n.index, size: n.size, hash: hex(n.hash) }
}

async function nodeFromBlocks (core: Hypercore, index: number): Promise<{ index: number, size: number, hash: Buffer }> {
  if (index % 2 === 0) {
    const block = await core.get(index / 2, { wait: false })
    if (!block) throw new Error(`block ${index / 2} is not stored`)
    return { index, size: block.byteLength, hash: crypto.data(block) }
  }
  const half = 2 ** (flat.depth(index) - 1)
  const [a, b] = await Promise.all([nodeFromBlocks(core, index - half), nodeFromBlocks(core, index + half)])
  return { index, size: a.size + b.size, hash: crypto.parent(a, b) }
}
