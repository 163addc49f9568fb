/**
 * Receipts as evidence of omission. Every call a host runs is answered with a
 * receipt: the log index of its record and the host's signed root statement
 * (contract, length, fork, tree hash) of a log that includes it. A host that
 * later drops the call — truncates its log, or truncates and writes other
 * calls in its place — cannot make the receipt go away: the caller checks it
 * against the host's log as it is now.
 *
 * {@link checkReceipt} verifies the receipt's signature against the
 * contract's log signer (from the replicated manifest), asks the host for its
 * current root and its root at the receipt's length, and checks the
 * replicated log itself: its tree hash at the receipt's length must be the
 * receipt's, and the block at the receipt's index must be a call record.
 *
 * Outcomes:
 * - `ok`: the history the receipt signed is still the host's prefix;
 * - `truncated`: the host's log is now shorter than the receipt's length;
 * - `rewritten`: the host's log at the receipt's length is another log.
 * When the two host-signed roots conflict (different fork ids, or one length
 * with two tree hashes) the result carries offline evidence in the form
 * `vms-node check` accepts: the genesis block and the two statements.
 */

import b4a from 'b4a'
import type Hypercore from 'hypercore'
import type { RootStatement, SignerRecord } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import { decodeBlock } from '../log/contract-log.js'
import { forkProof } from './evidence.js'
import { formatKey } from '../keys.js'
import { sleep } from '../timeout.js'
import { hex } from '../bytes.js'
import { statementToJSON, type StatementJSON } from './statement.js'
import { signerOf, verifyRoot } from './signer.js'
import type { AttestationStore } from './store.js'
import safetyCatch from 'safety-catch'

/** A call's receipt, as `VmsClient` keeps it. */
export interface ReceiptLike {
  /** Log block index of the call record. */
  index: number
  /** The host's signed root of the log including that record. */
  root: RootStatement
}

/** Where {@link checkReceipt} looks. */
export interface ReceiptSource {
  /** The replicated call log (connected to the host). */
  core: Hypercore
  /** Asks the host for its signed root at `length` (0: its current length). */
  root (length: number): Promise<RootStatement>
  /** ms to wait for blocks and updates (default 5,000). */
  timeout?: number
  /** Roots seen are handed to this store, which reports split views (and gossips them when wired to do so). */
  store?: AttestationStore
  /** The log's signer, when already proven (else read from the replicated manifest). */
  signer?: SignerRecord
  /** Block 0 of the log, when already proven (else read from the replicated log). */
  genesis?: Uint8Array
}

/** Evidence that `vms-node check` verifies offline: two conflicting roots and the genesis that names their signer. */
export interface ReceiptEvidence {
  contract: string
  /** Block 0 of the log (hex). */
  genesis: string
  statements: [StatementJSON, StatementJSON]
}

/** What {@link checkReceipt} found. */
export interface ReceiptCheck {
  ok: boolean
  /** Null when ok. */
  fault: 'truncated' | 'rewritten' | null
  message: string
  /** The receipt checked (its root as JSON). */
  receipt: { index: number, root: StatementJSON }
  /** The host's current root, as it signed it now. */
  current: StatementJSON | null
  /** Offline evidence when the host's own signatures prove the omission, else null. */
  evidence: ReceiptEvidence | null
}

/**
 * Checks a receipt against the host's current log.
 * @returns ok, or the fault with the receipt and (when provable) offline evidence
 * @throws VmsError BAD_ARGUMENT when the receipt is not one of this contract
 *   (wrong key, bad signature, index past its length); FORGED_REPLY when a
 *   root the peer gave does not verify; NOT_FOUND / REQUEST_TIMEOUT / CLOSED
 *   when no host answered (the receipt then still stands, unchecked)
 */
export async function checkReceipt (src: ReceiptSource, receipt: ReceiptLike): Promise<ReceiptCheck> {
  const core = src.core
  const timeout = src.timeout ?? 5000
  const r = receipt.root
  if (!b4a.equals(r.contract, core.key as Uint8Array)) throw VmsError.BAD_ARGUMENT('the receipt names another contract')
  if (!(receipt.index >= 1 && receipt.index < r.length)) throw VmsError.BAD_ARGUMENT(`receipt index ${receipt.index} is not inside its signed length ${r.length}`)
  const signer = src.signer ?? signerOf(core)
  const genesis = src.genesis ?? await core.get(0, { wait: true, timeout })
  if (!genesis || !signer) throw VmsError.NOT_FOUND('the call log has not replicated its genesis yet')
  if (!verifyRoot(r, signer)) throw VmsError.BAD_ARGUMENT('the receipt is not signed by the contract\'s log signer')

  const signed = async (length: number): Promise<RootStatement> => {
    const s = await src.root(length)
    if (!verifyRoot(s, signer) || !b4a.equals(s.contract, r.contract)) throw VmsError.FORGED_REPLY('the peer gave a root statement that does not verify against the contract key')
    if (length > 0 && s.length !== length) throw VmsError.FORGED_REPLY(`the peer gave a root of length ${s.length}, not the ${length} asked for`)
    if (src.store) src.store.addStatement(s, signer)
    return s
  }
  if (src.store) src.store.addStatement(r, signer)
  const current = await signed(0)
  const result = (fault: ReceiptCheck['fault'], message: string, other: RootStatement | null): ReceiptCheck => ({
    ok: fault === null,
    fault,
    message,
    receipt: { index: receipt.index, root: statementToJSON(r) },
    current: statementToJSON(current),
    evidence: other && forkProof(r, other) !== null ? { contract: formatKey(r.contract), genesis: hex(genesis), statements: [statementToJSON(r), statementToJSON(other)] } : null
  })

  if (current.length < r.length) {
    return result('truncated', `the host signed a log of ${r.length} blocks (fork ${r.fork}) holding call ${receipt.index}; its log now has ${current.length} blocks (fork ${current.fork})`, current)
  }
  const atLength = current.length === r.length ? current : await signed(r.length)
  if (!b4a.equals(atLength.treeHash, r.treeHash)) {
    return result('rewritten', `the host's log at length ${r.length} is not the one its receipt for call ${receipt.index} signed (fork ${r.fork} -> ${atLength.fork})`, atLength)
  }

  // the host still signs the receipt's root: the replicated log must hold it too
  await Promise.race([core.update({ wait: true }), sleep(timeout)]).catch(safetyCatch)
  if (core.length < r.length) {
    throw VmsError.REQUEST_TIMEOUT(`the host signs ${current.length} blocks but served ${core.length} within ${timeout} ms`)
  }
  const local = await core.treeHash(r.length)
  if (!b4a.equals(local, r.treeHash)) {
    return result('rewritten', `the log the host serves differs at length ${r.length} from the root its receipt for call ${receipt.index} signed`, null)
  }
  const block = await core.get(receipt.index, { wait: true, timeout })
  if (!block || decodeBlock(block, receipt.index).type !== 'call') {
    return result('rewritten', `block ${receipt.index} of the served log is not a call record`, null)
  }
  return result(null, `call ${receipt.index} is in the host's log (length ${current.length}, fork ${current.fork})`, null)
}
