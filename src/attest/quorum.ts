/**
 * Client trust policy: accept a result only once `k` distinct watchers have
 * attested `ok` at or beyond the log length of its receipt, and never from a
 * contract with a proven split view (equivocation or fork evidence, checked
 * by the store before it keeps it) or with replay faults from at least
 * `faultQuorum` distinct watchers. A replay fault cannot be checked without
 * re-running the call, so one watcher key alone (keys are free) can only
 * stop clients that chose to believe a single watcher.
 */

import { VERDICT_EQUIVOCATION, VERDICT_OK, type Attestation } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import type { AttestationStore } from './store.js'

/** Distinct watchers (hex keys) whose latest attestation of `contract` is ok at length >= `length`. */
export function okWatchers (store: AttestationStore, contract: Uint8Array, length: number): string[] {
  return store.latest(contract)
    .filter((a) => a.verdict === VERDICT_OK && a.length >= length)
    .map((a) => Buffer.from(a.watcher).toString('hex'))
}

/**
 * Refuses a contract that is known to be faulty.
 * @param faultQuorum distinct watchers whose replay faults are enough (default 1)
 * @throws VmsError CONTRACT_FAULTY when the store holds split-view evidence
 *   about `contract`, or replay faults from `faultQuorum` distinct watchers
 */
export function assertNoFault (store: AttestationStore, contract: Uint8Array, faultQuorum = 1): void {
  const faults = store.faults(contract)
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
 * Waits until `k` distinct watchers attested ok at or beyond `length`.
 * @param timeout ms
 * @returns the watcher keys (hex)
 * @param faultQuorum see {@link assertNoFault}
 * @throws VmsError QUORUM_TIMEOUT (with how many attested), CONTRACT_FAULTY
 */
export async function waitForQuorum (store: AttestationStore, contract: Uint8Array, length: number, k: number, timeout: number, faultQuorum = 1): Promise<string[]> {
  return await new Promise((resolve, reject) => {
    const check = (): boolean => {
      try {
        assertNoFault(store, contract, faultQuorum)
      } catch (err) {
        done()
        reject(err)
        return true
      }
      const ok = okWatchers(store, contract, length)
      if (ok.length >= k) {
        done()
        resolve(ok)
        return true
      }
      return false
    }
    const onchange = (): void => { check() }
    const timer = setTimeout(() => {
      done()
      const n = okWatchers(store, contract, length).length
      reject(new VmsError('QUORUM_TIMEOUT', `${n} of ${k} watchers attested ok at length ${length} within ${timeout} ms`))
    }, timeout)
    const done = (): void => {
      clearTimeout(timer)
      store.off('attestation', onchange)
      store.off('fault', onchange)
    }
    store.on('attestation', onchange)
    store.on('fault', onchange)
    check()
  })
}

function article (word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a'
}
