/**
 * Checking a host's RPC replies with nothing but the contract key (host RPC
 * v2, protocol/proof.ts). A reply is believed only when
 *
 * 1. the signer it names is the manifest that hashes to the contract key
 *    (signer.ts `signerMatches`),
 * 2. its root statement names the contract and is signed by that signer,
 * 3. its block proof ties one log block to the root's tree hash
 *    (log/block-proof.ts), and
 * 4. that block says what the reply says: for `call`, a call record whose
 *    request is byte-equal to the request the caller signed and whose
 *    outcome is the reply's; for `info`, the genesis record naming the
 *    same signer.
 *
 * Anything else is a FORGED_REPLY: the peer that sent it is not the host
 * (nor relaying it faithfully).
 */

import b4a from 'b4a'
import c from 'compact-encoding'
import type Hypercore from 'hypercore'
import { callRequest, outcome, type CallRecord, type CallRequest, type CallResponse, type ContractInfo, type GenesisRecord, type ProvenBlock, type ProvenCallReply, type ProvenInfo, type RootStatement, type SignerRecord } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import { withTimeout } from '../timeout.js'
import { verifyBlockProof } from '../log/block-proof.js'
import { decodeBlock } from '../log/contract-log.js'
import { verifyRoot } from './signer.js'
import safetyCatch from 'safety-catch'

/** A call reply that verified. */
export interface VerifiedCall {
  response: CallResponse
  /** The call record proven in the log. */
  record: CallRecord
  signer: SignerRecord
}

/** An info reply that verified: info built from the proven genesis and root. */
export interface VerifiedInfo {
  info: ContractInfo
  genesis: GenesisRecord
  /** Block 0 as stored (for offline evidence). */
  block: Uint8Array
  root: RootStatement
  signer: SignerRecord
}

/**
 * Checks a signed root of `contract` (any length).
 * @throws VmsError FORGED_REPLY when the root does not verify
 */
export function checkRoot (contract: Uint8Array, root: RootStatement, signer: SignerRecord, what = 'root'): void {
  if (!b4a.equals(root.contract, contract)) throw VmsError.FORGED_REPLY(`the ${what} names another contract`)
  if (!verifyRoot(root, signer)) throw VmsError.FORGED_REPLY(`the ${what} is not signed by the signer of the contract key's manifest`)
}

/**
 * Checks a block proven under a signed root.
 * @returns the decoded block
 * @throws VmsError FORGED_REPLY
 */
export function checkProvenBlock (contract: Uint8Array, pb: ProvenBlock, what: string): ReturnType<typeof decodeBlock> {
  checkRoot(contract, pb.root, pb.signer, what + ' root')
  if (!verifyBlockProof(pb.proof, pb.root.length, pb.root.treeHash)) throw VmsError.FORGED_REPLY(`the ${what} proof of block ${pb.proof.index} does not match the signed tree hash`)
  try {
    return decodeBlock(pb.proof.block, pb.proof.index)
  } catch {
    throw VmsError.FORGED_REPLY(`the ${what} block ${pb.proof.index} does not decode`) // signed by the host: a host fault, but still no reply to believe
  }
}

/**
 * Checks an accepted `call` reply against the request the caller signed.
 * @returns the response, with the record's own outcome
 * @throws VmsError FORGED_REPLY
 */
export function verifyCallReply (contract: Uint8Array, req: CallRequest, reply: Extract<ProvenCallReply, { accepted: true }>): VerifiedCall {
  const { response, signer, proof } = reply
  if (proof.index !== response.index || response.index < 1 || response.index >= response.root.length) {
    throw VmsError.FORGED_REPLY(`the reply's block ${proof.index} is not its record index ${response.index} inside length ${response.root.length}`)
  }
  const block = checkProvenBlock(contract, { signer, root: response.root, proof }, 'call reply')
  if (block.type !== 'call') throw VmsError.FORGED_REPLY(`block ${proof.index} of the reply is not a call record`)
  const rec = block.call
  if (!b4a.equals(c.encode(callRequest, rec.request), c.encode(callRequest, req))) throw VmsError.FORGED_REPLY(`block ${proof.index} records another request than the one signed`)
  if (!b4a.equals(c.encode(outcome, rec.outcome), c.encode(outcome, response.outcome))) throw VmsError.FORGED_REPLY(`the reply's outcome is not the one block ${proof.index} records`)
  return { response: { outcome: rec.outcome, index: response.index, root: response.root }, record: rec, signer }
}

/**
 * Checks an `info` reply: the genesis proven under the host's signed root.
 * The returned info takes files, name, runtime, oracles and limits from the
 * genesis, length and fork from the signed root; `methods` is the host's
 * unproven list (the genesis has the source, not the method names): a hint
 * for the client's proxy, never a basis for trust.
 * @throws VmsError FORGED_REPLY
 */
export function verifyInfo (contract: Uint8Array, reply: ProvenInfo): VerifiedInfo {
  const pb = reply.genesis
  if (pb.proof.index !== 0) throw VmsError.FORGED_REPLY('the info proof is not of block 0')
  const block = checkProvenBlock(contract, pb, 'info')
  if (block.type !== 'genesis') throw VmsError.FORGED_REPLY('block 0 of the info proof is not a genesis record')
  const g = block.genesis
  if (!b4a.equals(g.signer, pb.signer.publicKey)) throw VmsError.FORGED_REPLY('the genesis names another signer than the manifest')
  const methods = Array.isArray(reply.info.methods) ? reply.info.methods.filter((m) => typeof m === 'string') : []
  return {
    info: {
      contract: Buffer.from(contract),
      files: Buffer.from(g.files),
      name: g.name,
      methods,
      length: pb.root.length,
      fork: pb.root.fork,
      runtime: g.runtime,
      oracles: g.oracles,
      limits: g.limits
    },
    genesis: g,
    block: pb.proof.block,
    root: pb.root,
    signer: pb.signer
  }
}

/**
 * Looks for `req` in the replicated call log (Hypercore verifies its blocks
 * against the contract key) under a verified root: from the root's last
 * block back to the first record of the same caller with a smaller nonce
 * (a caller's nonces grow along the log), at most 1,024 blocks. What a
 * client does when the host says NONCE_REUSED to a request that a relay may
 * have got logged.
 * @param root a verified root of the log; its tree hash must be the replicated log's
 * @param timeout ms to wait for the log and each block
 * @returns the call as a verified reply (its record's outcome), or null when not found
 */
export async function findLoggedCall (core: Hypercore, root: RootStatement, signer: SignerRecord, req: CallRequest, timeout: number): Promise<VerifiedCall | null> {
  if (core.length < root.length) await withTimeout(core.update({ wait: true }), timeout).catch(safetyCatch)
  if (core.length < root.length) return null
  if (!b4a.equals(await withTimeout(core.treeHash(root.length), timeout), root.treeHash)) return null
  const want = c.encode(callRequest, req)
  for (let i = root.length - 1; i >= Math.max(1, root.length - 1024); i--) {
    const raw = await core.get(i, { timeout }).catch(() => null)
    if (!raw) return null
    const block = decodeBlock(raw, i)
    if (block.type !== 'call') continue
    const r = block.call.request
    if (b4a.equals(c.encode(callRequest, r), want)) return { response: { outcome: block.call.outcome, index: i, root }, record: block.call, signer }
    if (b4a.equals(r.caller, req.caller) && r.nonce < req.nonce) return null
  }
  return null
}
