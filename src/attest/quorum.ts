/**
 * Client trust policy: accept a result only once `k` distinct watchers have
 * attested `ok` at or beyond the log length of its receipt, and never from a
 * contract with a verified fault or split view.
 */

import { VERDICT_OK, type Attestation } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import type { AttestationStore } from './store.js'

/** Distinct watchers (hex keys) whose latest attestation of `contract` is ok at length >= `length`. */
export function okWatchers (store: AttestationStore, contract: Uint8Array, length: number): string[] {
  return store.latest(contract)
    .filter((a) => a.verdict === VERDICT_OK && a.length >= length)
    .map((a) => Buffer.from(a.watcher).toString('hex'))
}

/**
 * @throws VmsError CONTRACT_FAULTY when the store holds a verified fault about `contract`
 */
export function assertNoFault (store: AttestationStore, contract: Uint8Array): void {
  const faults = store.faults(contract)
  if (faults.length > 0) {
    const f = faults[0] as Attestation
    throw new VmsError('CONTRACT_FAULTY', `watcher ${Buffer.from(f.watcher).toString('hex').slice(0, 16)} proved a ${f.fault?.kind ?? 'fault'} at block ${f.fault?.index ?? f.length}: ${f.fault?.message ?? ''}`)
  }
}

/**
 * Waits until `k` distinct watchers attested ok at or beyond `length`.
 * @param timeout ms
 * @returns the watcher keys (hex)
 * @throws VmsError QUORUM_TIMEOUT (with how many attested), CONTRACT_FAULTY
 */
export async function waitForQuorum (store: AttestationStore, contract: Uint8Array, length: number, k: number, timeout: number): Promise<string[]> {
  return await new Promise((resolve, reject) => {
    const check = (): boolean => {
      try {
        assertNoFault(store, contract)
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
