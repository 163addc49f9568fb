/**
 * Client trust policy: accept a result only once `k` distinct watchers have
 * attested `ok` over a log that contains the verified receipt's tree (same
 * signer, length at least the receipt's, the receipt's tree hash a prefix:
 * see {@link covers}), and never from a
 * contract with a proven split view (equivocation or fork evidence, checked
 * by the store before it keeps it) or with replay faults from at least
 * `faultQuorum` distinct watchers. A replay fault cannot be checked without
 * re-running the call, so one watcher key alone (keys are free) can only
 * stop clients that chose to believe a single watcher.
 */

import b4a from 'b4a'
import type Hypercore from 'hypercore'
import { VERDICT_EQUIVOCATION, VERDICT_OK, type Attestation, type RootStatement, type SignerRecord } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import { withTimeout } from '../timeout.js'
import { replicationPeers } from '../log/holepunch-internals.js'
import type { AttestationStore } from './store.js'
import safetyCatch from 'safety-catch'

/**
 * What an attestation must cover to count for a call: the verified
 * receipt's root and its signer, and the replicated call log (which
 * Hypercore verifies against the contract key) to check longer attested
 * trees against.
 */
export interface Coverage {
  /** The receipt's root (verified: attest/reply.ts). */
  root: RootStatement
  /** The contract's log signer (verified against the contract key). */
  signer: SignerRecord
  /** The replicated call log; without it only attestations at exactly the receipt's length count. */
  core?: Hypercore
  /** ms to wait for the log's tree nodes (default 5,000). */
  timeout?: number
}

/**
 * True when `a` is an ok attestation of a log that contains `cov.root`'s
 * tree: same contract and signer, length >= the root's, and either the
 * same tree hash at the same length, or (longer) the replicated log's tree
 * hashes at both lengths are the root's and the attestation's.
 */
export async function covers (cov: Coverage, a: Attestation): Promise<boolean> {
  const r = cov.root
  if (a.verdict !== VERDICT_OK || !b4a.equals(a.contract, r.contract) || a.length < r.length) return false
  if (a.signer.version !== cov.signer.version || !b4a.equals(a.signer.publicKey, cov.signer.publicKey) || !b4a.equals(a.signer.namespace, cov.signer.namespace)) return false
  if (a.length === r.length) return b4a.equals(a.treeHash, r.treeHash)
  const core = cov.core
  if (!core) return false
  if (core.length < a.length) await withTimeout(core.update({ wait: true }), cov.timeout ?? 5000).catch(safetyCatch)
  // a peer announced the length already and its upgrade is still being fetched and verified: wait for it
  if (core.length < a.length && replicationPeers(core).some((p) => p.remoteContiguousLength >= a.length)) await grown(core, a.length, cov.timeout ?? 5000)
  if (core.length < a.length) return false
  try {
    const [mine, theirs] = await Promise.all([withTimeout(core.treeHash(r.length), cov.timeout ?? 5000), withTimeout(core.treeHash(a.length), cov.timeout ?? 5000)])
    return b4a.equals(mine, r.treeHash) && b4a.equals(theirs, a.treeHash)
  } catch (err) {
    safetyCatch(err) // the replica cannot say in time: not covered
    return false
  }
}

/** Resolves once `core` is at least `length` blocks long, or after `ms`. */
async function grown (core: Hypercore, length: number, ms: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = (): void => { clearTimeout(timer); core.off('append', check); resolve() }
    const check = (): void => { if (core.length >= length) done() }
    const timer = setTimeout(done, ms)
    core.on('append', check)
    check()
  })
}

/** Distinct watchers (hex keys) whose latest attestation of the receipt's contract {@link covers} it. */
export async function coveringWatchers (store: AttestationStore, cov: Coverage): Promise<string[]> {
  const out = new Set<string>()
  for (const a of store.latest(cov.root.contract)) {
    if (await covers(cov, a)) out.add(Buffer.from(a.watcher).toString('hex'))
  }
  return [...out]
}

/** Distinct watchers (hex keys) whose latest attestation of `contract` is ok at length >= `length`. */
export function okWatchers (store: AttestationStore, contract: Uint8Array, length: number): string[] {
  return store.latest(contract)
    .filter((a) => a.verdict === VERDICT_OK && a.length >= length)
    .map((a) => Buffer.from(a.watcher).toString('hex'))
}

/**
 * Refuses a contract that is known to be faulty. A replay fault whose cause
 * is `unknown` (the watcher's own machine could not run the replay: its
 * deadline, memory or sandbox) says nothing about the host and does not count;
 * current watchers never attest one.
 * @param faultQuorum distinct watchers whose replay faults are enough (default 1)
 * @throws VmsError CONTRACT_FAULTY when the store holds split-view evidence
 *   about `contract`, or replay faults from `faultQuorum` distinct watchers
 */
export function assertNoFault (store: AttestationStore, contract: Uint8Array, faultQuorum = 1): void {
  const faults = store.faults(contract).filter((a) => a.fault?.cause !== 'unknown')
  const proven = faults.find((a) => a.verdict === VERDICT_EQUIVOCATION)
  if (proven) throw faulty(proven, 'proved')
  // the store keeps only fault verdicts here: what is left are replay faults
  const watchers = new Set(faults.map((a) => Buffer.from(a.watcher).toString('hex')))
  if (faults.length > 0 && watchers.size >= Math.max(1, faultQuorum)) {
    throw faulty(faults[0] as Attestation, watchers.size > 1 ? `and ${watchers.size - 1} other watchers reported` : 'reported')
  }
}

function faulty (f: Attestation, how: string): VmsError {
  return new VmsError('CONTRACT_FAULTY', `watcher ${Buffer.from(f.watcher).toString('hex').slice(0, 16)} ${how} ${f.fault ? article(f.fault.kind) + ' ' + f.fault.kind + ' fault' : 'a fault'} at block ${f.fault?.index ?? f.length}: ${f.fault?.message ?? ''}`)
}

/**
 * Waits until `k` distinct watchers attested ok over the receipt: with a
 * {@link Coverage}, attestations that {@link covers} it; with a bare
 * length, any ok attestation at or beyond it (no proof that it is the
 * receipt's log: use a Coverage for calls).
 * @param timeout ms
 * @returns the watcher keys (hex)
 * @param faultQuorum see {@link assertNoFault}
 * @throws VmsError QUORUM_TIMEOUT (with how many attested), CONTRACT_FAULTY
 */
export async function waitForQuorum (store: AttestationStore, contract: Uint8Array, receipt: number | Coverage, k: number, timeout: number, faultQuorum = 1): Promise<string[]> {
  const length = typeof receipt === 'number' ? receipt : receipt.root.length
  const count = async (): Promise<string[]> => typeof receipt === 'number' ? okWatchers(store, contract, receipt) : await coveringWatchers(store, receipt)
  return await new Promise((resolve, reject) => {
    let settled = false
    let running = false
    let again = false
    const check = async (): Promise<void> => {
      if (running) { again = true; return }
      running = true
      try {
        do {
          again = false
          assertNoFault(store, contract, faultQuorum)
          const ok = await count()
          if (settled) return
          if (ok.length >= k) {
            done()
            resolve(ok)
            return
          }
        } while (again && !settled)
      } catch (err) {
        if (!settled) { done(); reject(err) }
      } finally {
        running = false
      }
    }
    const onchange = (): void => { check().catch(safetyCatch) }
    const timer = setTimeout(() => {
      done()
      count().then((ok) => ok.length, () => 0).then((n) => {
        reject(new VmsError('QUORUM_TIMEOUT', `${n} of ${k} watchers attested ok over the receipt at length ${length} within ${timeout} ms`))
      })
    }, timeout)
    const done = (): void => {
      settled = true
      clearTimeout(timer)
      store.off('attestation', onchange)
      store.off('fault', onchange)
    }
    store.on('attestation', onchange)
    store.on('fault', onchange)
    onchange()
  })
}

function article (word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a'
}
