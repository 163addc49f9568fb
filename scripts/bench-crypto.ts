/**
 * Benchmark child: `cryptoCap`, the physical limit of a host on one core:
 * ed25519 signature checks per second (sodium-universal's
 * `crypto_sign_verify_detached`, what hypercore-crypto and the host's
 * verify pool call) over call-request-sized messages: the signed bytes of
 * the write section's `rsvp` requests (`callSignable`), 64 different ones
 * from 4 callers, checked one after another on this process's one thread.
 * Emits `{ event: 'result', verifiesPerSec, usPerVerify, messageBytes, verifies }`
 * (verifies/s, µs, bytes).
 *
 * Config: `{ ms?: number }`: how long to measure, ms (default 2,000; after
 * a 200 ms warm-up).
 */

import { createRequire } from 'node:module'
import { callSignable } from '../protocol/index.js'
import { signCall } from '../src/caller.js'
import { keyPair, randomBytes } from '../src/crypto.js'
import { canonicalArgs } from '../src/json.js'
import { childIO, now } from './bench-lib.js'

interface Sodium {
  crypto_sign_verify_detached (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
}

const { config, emit } = childIO<{ ms?: number }>(() => {})
const sodium = createRequire(import.meta.url)('sodium-universal') as Sodium
const contract = randomBytes(32)
const callers = [keyPair(), keyPair(), keyPair(), keyPair()]
const checks = Array.from({ length: 64 }, (_, i) => {
  const req = signCall(callers[i % 4]!, contract, Date.now() * 1000 + i, 'rsvp', canonicalArgs([`${i % 4}-${i}`, true, 'bench']))
  return { message: callSignable(req), signature: req.signature, publicKey: req.caller }
})

/** Checks signatures for `ms` ms; returns how many. */
function spin (ms: number): { n: number, elapsed: number } {
  const t0 = now()
  let n = 0
  while (now() - t0 < ms) {
    for (const ch of checks) {
      if (!sodium.crypto_sign_verify_detached(ch.signature, ch.message, ch.publicKey)) throw new Error('signature does not verify')
    }
    n += checks.length
  }
  return { n, elapsed: now() - t0 }
}

spin(200)
const { n, elapsed } = spin(config.ms ?? 2000)
emit({ event: 'result', verifiesPerSec: Math.round(n / (elapsed / 1000)), usPerVerify: Math.round(elapsed * 1000 / n * 10) / 10, messageBytes: checks[0]!.message.byteLength, verifies: n })
process.exit(0)
