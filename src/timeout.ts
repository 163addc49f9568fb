/**
 * Time in promises: a deadline for a promise that has none of its own
 * (Hypercore's `update` and `treeHash` wait for peers as long as it takes),
 * and a pause.
 */

import { VmsError } from './errors.js'

/**
 * `p`, or VmsError REQUEST_TIMEOUT after `ms` ms. The timer does not keep
 * the process alive; `p` itself is not cancelled.
 * @param ms deadline, ms
 */
export function withTimeout<T> (p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(VmsError.REQUEST_TIMEOUT(`no answer in ${ms} ms`)), ms)
    timer.unref()
    p.then((v) => { clearTimeout(timer); resolve(v) }, (err) => { clearTimeout(timer); reject(err) })
  })
}

/**
 * Resolves after `ms` ms. The timer does not keep the process alive.
 * @param ms pause, ms
 */
export function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => { setTimeout(resolve, ms).unref() })
}
