/**
 * ed25519 signature checks off the main thread. Sodium has no batch verify,
 * but checks can run on other cores while the main thread runs the sandbox
 * and the network: requests queue here, and each idle worker thread takes
 * everything queued so far (up to `maxBatch`) in one message. Answers come
 * back in order per batch; callers that need arrival order (the nonce
 * check) keep it themselves.
 *
 * A worker that fails is dropped; with no worker left, checks run on the
 * main thread.
 *
 * A check that comes while the pool is idle (nothing queued, no worker
 * busy) runs on the calling thread instead: one check there (about 50 µs)
 * answers sooner than a worker's round trip (a host admitted a request in
 * 0.3-1.3 ms p50 that way on 2 cores), which is what a lightly loaded
 * host's latency is made of. At most
 * one such check a turn of the event loop (a burst goes to the workers),
 * and at most `inlineShare` of the thread's time over each 100 ms.
 */

import os from 'node:os'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { verify } from '../crypto.js'

/** Something that checks signatures (the pool, or the main thread). */
export interface SignatureVerifier {
  /** True when `signature` (64 bytes) is `publicKey`'s (32 bytes) ed25519 signature of `message`. */
  verify (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): Promise<boolean>
}

/** Options for {@link VerifyPool}. */
export interface VerifyPoolOptions {
  /** Worker threads (default: cores - 1, at least 1, at most 4). */
  threads?: number
  /** Most checks sent to a worker in one message (default 256). */
  maxBatch?: number
  /**
   * Share of the calling thread's time, over each {@link INLINE_WINDOW_MS},
   * that checks made there while the pool is idle may take (default 0.05;
   * 0: every check goes to a worker).
   */
  inlineShare?: number
}

/** Window over which the calling thread's share of checks is counted, ms. */
export const INLINE_WINDOW_MS = 100

interface Job {
  message: Uint8Array
  signature: Uint8Array
  publicKey: Uint8Array
  resolve: (ok: boolean) => void
}

interface Slot {
  worker: Worker
  busy: Job[] | null
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const sodium = require(workerData.sodium)
parentPort.on('message', (buf) => {
  const u8 = new Uint8Array(buf)
  const dv = new DataView(buf)
  const n = dv.getUint32(0, true)
  const out = new Uint8Array(n)
  let off = 4
  for (let i = 0; i < n; i++) {
    const len = dv.getUint32(off, true)
    off += 4
    const msg = u8.subarray(off, off + len)
    off += len
    const sig = u8.subarray(off, off + 64)
    const pk = u8.subarray(off + 64, off + 96)
    off += 96
    try { out[i] = sodium.crypto_sign_verify_detached(sig, msg, pk) ? 1 : 0 } catch { out[i] = 0 }
  }
  parentPort.postMessage(out, [out.buffer])
})
`

/** A pool of signature-checking worker threads. Idle workers do not keep the process alive. */
export class VerifyPool implements SignatureVerifier {
  private readonly slots: Slot[] = []
  private readonly queue: Job[] = []
  private readonly maxBatch: number
  private closed = false
  private scheduled = false
  private readonly inlineShare: number
  /** A check ran on the calling thread in this turn of the event loop. */
  private inlineTurn = false
  private windowStart = 0
  /** Time the calling thread spent on checks in the current window, ms. */
  private windowMs = 0
  /** Checks made on the calling thread because the pool was idle (diagnostics, tests). */
  inlineChecks = 0

  /** @param opts see {@link VerifyPoolOptions} */
  constructor (opts: VerifyPoolOptions = {}) {
    const threads = opts.threads ?? Math.max(1, Math.min(4, os.availableParallelism() - 1))
    this.maxBatch = opts.maxBatch ?? 256
    this.inlineShare = opts.inlineShare ?? 0.05
    const sodium = createRequire(import.meta.url).resolve('sodium-universal')
    for (let i = 0; i < threads; i++) {
      try {
        this.addWorker(sodium)
      } catch {
        // no more threads: verify with the workers started
        break
      }
    }
  }

  /** Worker threads running. */
  get threads (): number {
    return this.slots.length
  }

  /**
   * Queues one check (or makes it here when the pool is idle, see the
   * module doc). Never rejects: malformed input verifies as false.
   */
  verify (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): Promise<boolean> {
    if (signature.byteLength !== 64 || publicKey.byteLength !== 32) return Promise.resolve(false)
    if (this.slots.length === 0 || this.closed) return Promise.resolve(verify(message, signature, publicKey))
    if (this.idleHere()) return Promise.resolve(this.checkHere(message, signature, publicKey))
    return new Promise((resolve) => {
      this.queue.push({ message, signature, publicKey, resolve })
      // checks queued in the same turn of the event loop go to a worker together
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => {
          this.scheduled = false
          this.pump()
        })
      }
    })
  }

  /** Stops the workers; queued checks finish on the main thread. */
  async close (): Promise<void> {
    this.closed = true
    const slots = this.slots.splice(0)
    for (const s of slots) this.fail(s, false)
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => 0)))
  }

  /** True when a check may run on the calling thread now: the pool is idle, none ran here this turn, the share is not used up. */
  private idleHere (): boolean {
    if (this.inlineTurn || this.scheduled || this.queue.length > 0) return false
    for (const s of this.slots) if (s.busy) return false
    const now = performance.now()
    if (now - this.windowStart >= INLINE_WINDOW_MS) {
      this.windowStart = now
      this.windowMs = 0
    }
    return this.windowMs < this.inlineShare * INLINE_WINDOW_MS
  }

  private checkHere (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
    this.inlineTurn = true
    setImmediate(() => { this.inlineTurn = false })
    const t0 = performance.now()
    const ok = verify(message, signature, publicKey)
    this.windowMs += performance.now() - t0
    this.inlineChecks++
    return ok
  }

  private addWorker (sodium: string): void {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sodium }, execArgv: [] }) // the source is CommonJS whatever flags this process has
    const slot: Slot = { worker, busy: null }
    worker.on('message', (out: Uint8Array) => {
      const jobs = slot.busy ?? []
      slot.busy = null
      worker.unref()
      for (let i = 0; i < jobs.length; i++) jobs[i]!.resolve(out[i] === 1)
      this.pump()
    })
    worker.on('error', () => this.fail(slot, true))
    worker.on('exit', () => this.fail(slot, true))
    // after the listeners: a 'message' listener refs the worker's port again
    worker.unref()
    this.slots.push(slot)
  }

  /** Drops a worker; its checks (and, with no worker left, all queued ones) run here. */
  private fail (slot: Slot, remove: boolean): void {
    if (remove) {
      const i = this.slots.indexOf(slot)
      if (i !== -1) this.slots.splice(i, 1)
    }
    const jobs = slot.busy ?? []
    slot.busy = null
    if (this.slots.length === 0) jobs.push(...this.queue.splice(0))
    for (const j of jobs) j.resolve(verify(j.message, j.signature, j.publicKey))
    if (this.slots.length > 0) this.pump()
  }

  private pump (): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return
      if (slot.busy) continue
      const jobs = this.queue.splice(0, this.maxBatch)
      let size = 4
      for (const j of jobs) size += 4 + j.message.byteLength + 96
      const buf = new ArrayBuffer(size)
      const u8 = new Uint8Array(buf)
      const dv = new DataView(buf)
      dv.setUint32(0, jobs.length, true)
      let off = 4
      for (const j of jobs) {
        dv.setUint32(off, j.message.byteLength, true)
        off += 4
        u8.set(j.message, off)
        off += j.message.byteLength
        u8.set(j.signature, off)
        u8.set(j.publicKey, off + 64)
        off += 96
      }
      slot.busy = jobs
      slot.worker.ref() // pending checks keep the process alive; an idle pool does not
      slot.worker.postMessage(buf, [buf])
    }
  }
}

let shared: VerifyPool | null = null

/** The process-wide pool (created on first use). */
export function sharedVerifyPool (): VerifyPool {
  if (!shared) shared = new VerifyPool()
  return shared
}
