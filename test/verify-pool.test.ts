// Signature checks in worker threads, and the host's admission of requests
// in arrival order whatever order the checks end in.

import test from 'brittle'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { callSignable } from '../protocol/index.js'
import { signCall } from '../src/caller.js'
import { keyPair, verify } from '../src/crypto.js'
import { OrderedAdmission } from '../src/host/request-check.js'
import { VerifyPool, type SignatureVerifier } from '../src/sig/verify-pool.js'

test('verify pool: valid and forged signatures, in one batch and across workers', async (t) => {
  const pool = new VerifyPool({ threads: 2, maxBatch: 7 })
  t.teardown(() => pool.close())
  t.ok(pool.threads >= 1, `${pool.threads} worker threads`)
  const kp = keyPair()
  const reqs = Array.from({ length: 50 }, (_, i) => signCall(kp, Buffer.alloc(32, 1), i + 1, 'm', '[]'))
  for (let i = 0; i < reqs.length; i += 5) {
    const sig = Buffer.from(reqs[i]!.signature)
    sig[3] ^= 1
    reqs[i]!.signature = sig
  }
  const results = await Promise.all(reqs.map((r) => pool.verify(callSignable(r), r.signature, r.caller)))
  t.alike(results, reqs.map((_, i) => i % 5 !== 0), 'every fifth (forged) fails, the rest verify')
  t.is(await pool.verify(Buffer.from('x'), Buffer.alloc(10), kp.publicKey), false, 'malformed input is false, not a throw')
  await pool.close()
  const r = reqs[1]!
  t.is(await pool.verify(callSignable(r), r.signature, r.caller), true, 'after close, checks run here')
})

test('verify pool: a lone check at an idle pool runs on this thread; a burst goes to the workers; checks made here stay within their share', async (t) => {
  const pool = new VerifyPool({ threads: 1 })
  t.teardown(() => pool.close())
  const kp = keyPair()
  const req = (n: number): ReturnType<typeof signCall> => signCall(kp, Buffer.alloc(32, 1), n, 'm', '[]')
  const check = async (r: ReturnType<typeof signCall>): Promise<boolean> => await pool.verify(callSignable(r), r.signature, r.caller)
  const turn = async (): Promise<void> => await new Promise((resolve) => setImmediate(resolve))

  t.is(await check(req(1)), true)
  t.is(pool.inlineChecks, 1, 'a lone check at an idle pool ran here')
  await turn()
  const forged = req(2)
  forged.signature = Buffer.alloc(64, 7)
  t.is(await check(forged), false, 'a forged one checked here fails as in a worker')
  t.is(pool.inlineChecks, 2)

  await turn()
  const burst = Array.from({ length: 40 }, (_, i) => req(i + 3))
  burst[7]!.signature = Buffer.alloc(64, 9)
  t.alike(await Promise.all(burst.map(check)), burst.map((_, i) => i !== 7), 'a burst: every answer right')
  t.is(pool.inlineChecks, 3, 'of a burst in one turn, only the first ran here')

  // one check a turn, as fast as they come: this thread takes them only while its share lasts
  const before = pool.inlineChecks
  const t0 = performance.now()
  for (let i = 0; i < 1000; i++) {
    if (!(await check(req(100 + i)))) t.fail('a valid signature did not verify')
    await turn()
  }
  const elapsed = performance.now() - t0
  const here = pool.inlineChecks - before
  t.ok(here > 0 && here < 1000, `${here} of 1,000 checks ran here, the rest in the worker (${Math.round(elapsed)} ms)`)

  const never = new VerifyPool({ threads: 1, inlineShare: 0 })
  t.teardown(() => never.close())
  const r = req(5000)
  t.is(await never.verify(callSignable(r), r.signature, r.caller), true)
  t.is(never.inlineChecks, 0, 'with no share, every check goes to a worker')
})

test('ordered admission: requests are admitted in arrival order when their checks end out of order', async (t) => {
  // a verifier whose answers come back in reverse order; request 3 is forged
  const waiting: Array<() => void> = []
  const slow: SignatureVerifier = {
    verify: (msg, sig, pk) => new Promise((resolve) => waiting.push(() => resolve(verify(msg, sig, pk))))
  }
  const admission = new OrderedAdmission(slow)
  const kp = keyPair()
  const admitted: number[] = []
  const outcomes = Array.from({ length: 5 }, (_, i) => {
    const req = signCall(kp, Buffer.alloc(32, 1), i + 1, 'm', '[]')
    if (req.nonce === 3) req.signature = Buffer.alloc(64, 7)
    return admission.admit(req, { maxDepth: 64 }, () => { admitted.push(req.nonce); return req.nonce }).then((n) => n, (err: Error & { code?: string }) => err.code)
  })
  await new Promise((resolve) => setImmediate(resolve))
  for (const w of waiting.reverse()) w()
  t.alike(await Promise.all(outcomes), [1, 2, 'BAD_SIGNATURE', 4, 5])
  t.alike(admitted, [1, 2, 4, 5], 'in arrival order, the forged one left out')
})

test('verify pool: a pool that was never used does not keep the process alive', async (t) => {
  const url = new URL('../src/sig/verify-pool.js', import.meta.url).href
  const code = `const { VerifyPool } = await import(${JSON.stringify(url)}); const p = new VerifyPool({ threads: 2 }); setTimeout(() => console.log(p.threads), 200)`
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d })
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  t.teardown(() => { clearTimeout(timer); child.kill('SIGKILL') })
  const [code_, signal] = await once(child, 'exit') as [number | null, string | null]
  t.is(signal, null, 'the process ended by itself (not killed after 15 s)')
  t.is(code_, 0)
  t.is(out.trim(), '2', 'with its two idle workers')
})
