// One storage write per group (src/log/atomic-append.ts, drive-group.ts
// seal): a group's records, drive blocks and blobs land together or not at
// all, the next group runs while that write is under way and must read its
// writes, and what never landed is never acknowledged nor read by a call
// that is.

import test from 'brittle'
import Hyperdrive from 'hyperdrive'
import { AtomicAppender } from '../src/log/atomic-append.js'
import { proveBlock, verifyBlockProof } from '../src/log/block-proof.js'
import { localHost } from './local-helpers.js'
import type { LocalHost } from './local-helpers.js'

const COUNTER = `
const fs = System.files
exports.increment = async () => {
  let i = 0
  try { i = await fs.readFile('/counter', 'json') } catch (e) { if (e.code !== 'ENOENT') throw e }
  i++
  await fs.writeFile('/counter', i)
  await fs.writeFile('/seen/' + i, 'x')
  return i
}
exports.seen = async () => (await fs.readdir('/seen')).length
`

/** Every call record's files version, read with a stock Hyperdrive checkout: the counter and tree hash it names. */
async function checkouts (h: LocalHost): Promise<string[]> {
  const drive = h.host.log.drive as Hyperdrive
  const bad: string[] = []
  for (let i = 1; i < h.host.log.length; i++) {
    const rec = await h.host.log.call(i)
    if (!rec.outcome.ok) continue
    if (!(await drive.core.treeHash(rec.filesAfter)).equals(rec.filesHash)) bad.push(`call ${i}: tree hash`)
    if (rec.request.method !== 'increment') continue
    const snap = drive.checkout(rec.filesAfter)
    const raw = await snap.get('/counter')
    await snap.close()
    if (raw === null || raw.toString() !== rec.outcome.result) bad.push(`call ${i}: /counter is ${String(raw)} at ${rec.filesAfter}, the call returned ${rec.outcome.result}`)
  }
  return bad
}

test('pipelined groups: a group running while the one before it is written reads its writes; every record\'s files version is a stock checkout with the counter its call returned', async (t) => {
  const h = await localHost(t, COUNTER)
  const calls: Array<Promise<unknown>> = []
  for (let i = 0; i < 200; i++) {
    calls.push(h.call(i % 10 === 9 ? 'seen' : 'increment'))
    if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 5)) // more groups, each running while the last one is written
  }
  const res = await Promise.all(calls)
  const incs = res.filter((_, i) => i % 10 !== 9).map((r) => Number((r as { outcome: { result: string } }).outcome.result))
  t.alike([...incs].sort((a, b) => a - b), Array.from({ length: 180 }, (_, i) => i + 1), 'each increment saw every earlier one')
  const seen = res.filter((_, i) => i % 10 === 9).map((r) => Number((r as { outcome: { result: string } }).outcome.result))
  t.ok(seen.every((n, k) => n >= 9 * (k + 1) && (k === 0 || n >= seen[k - 1]!)), 'listings see every earlier write, in order')
  t.ok(h.host.stats.batches < 200 && h.host.stats.batches > 1, `group-committed (${h.host.stats.batches} groups)`)
  t.alike(await checkouts(h), [], 'every record names a readable version with its own outcome and tree hash')
  t.is(h.host.log.drive!.version, (await h.host.log.call(h.host.log.length - 1)).filesAfter, 'the drive holds nothing the log does not cover')
  const wrong: number[] = []
  for (const r of res as Array<{ index: number, root: { length: number, treeHash: Uint8Array } }>) {
    const proof = await h.host.prove(r.index, r.root.length) // from the blocks and tree nodes the host kept when it appended them
    const stored = await proveBlock(h.host.log.core, r.index, r.root.length) // read back from storage
    if (!verifyBlockProof(proof, r.root.length, r.root.treeHash) || JSON.stringify(proof) !== JSON.stringify(stored)) wrong.push(r.index)
  }
  t.alike(wrong, [], 'every reply\'s proof, made from memory, verifies under its signed root and equals the one read from storage')
})

test('a group\'s storage write fails after its blocks went into the atomic sessions -> none of it lands, no call that read it is acknowledged, the host serves on from the log', async (t) => {
  const h = await localHost(t, COUNTER)
  for (let i = 0; i < 5; i++) await h.call('increment')
  const append = AtomicAppender.prototype.append
  let n = 0
  AtomicAppender.prototype.append = async function (this: AtomicAppender, blocks, check) {
    const mine = ++n === 2
    return await append.call(this, blocks, async (sessions) => {
      if (check) await check(sessions)
      if (!mine) return
      await new Promise((resolve) => setTimeout(resolve, 30)) // the next group runs meanwhile
      throw new Error('injected: storage write failed')
    })
  }
  t.teardown(() => { AtomicAppender.prototype.append = append })

  type Settled = { ok: true, result: number } | { ok: false, error: unknown }
  const calls: Array<Promise<Settled>> = []
  for (let wave = 0; wave < 6; wave++) {
    for (let i = 0; i < 20; i++) calls.push(h.call('increment').then((r) => ({ ok: true as const, result: Number(r.outcome.result) }), (error: unknown) => ({ ok: false as const, error })))
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  const settled = await Promise.all(calls)
  AtomicAppender.prototype.append = append
  const acked = settled.flatMap((s) => s.ok ? [s.result] : [])
  const failed = settled.filter((s) => !s.ok)
  t.ok(failed.length > 0, `the failed group's calls were refused (${failed.length})`)
  t.is(new Set(acked).size, acked.length, 'no counter value was acknowledged twice')

  const logged: number[] = []
  for (let i = 1; i < h.host.log.length; i++) {
    const rec = await h.host.log.call(i)
    if (rec.outcome.ok) logged.push(Number(rec.outcome.result))
  }
  t.alike(logged, Array.from({ length: logged.length }, (_, i) => i + 1), 'the log counts 1, 2, 3 ... with no gap: nothing a lost group wrote was read by a logged call')
  t.alike([...acked].sort((a, b) => a - b), logged.slice(5), 'exactly the logged calls were acknowledged')
  t.alike(await checkouts(h), [], 'every record still names a readable version')
  t.is(h.host.log.drive!.version, (await h.host.log.call(h.host.log.length - 1)).filesAfter, 'nothing of the failed group is in the drive')
  const next = await h.call('increment')
  t.is(next.outcome.result, String(logged.length + 1), 'the next call continues from the log')
})
