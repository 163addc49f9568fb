// Watchers judging hosts, in one process: each fault kind on crafted logs, a
// host that lies vs a contract that is nondeterministic, limit records,
// a fork proven by two signed roots, a restart that resumes, and the
// client's `audit: true` option.

import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { VmsClient } from '../src/client.js'
import { signCall } from '../src/caller.js'
import { keyPair, randomBytes, sign } from '../src/crypto.js'
import type { KeyPair } from '../src/crypto.js'
import { rootSignable, type RootStatement } from '../protocol/index.js'
import { HostNode } from '../src/host/host-node.js'
import { createSandbox } from '../src/runtime/sandbox.js'
import type { Sandbox, SandboxFactory } from '../src/runtime/types.js'
import { hash } from '../src/crypto.js'
import { RootBook } from '../src/watch/fork.js'
import { checkForkEvidence } from '../src/attest/evidence.js'
import { Watcher } from '../src/watch/watcher.js'
import type { ContractWatch } from '../src/watch/contract-watch.js'
import type { Verdict } from '../src/watch/verdict.js'
import { statementToJSON } from '../src/attest/statement.js'
import { cliRun, example, hostNode, identity, rewriteHistory, testnet, tmpdir } from './helpers.js'
import { localHost, localWatcher, withCall } from './local-helpers.js'

const ECHO = `
let n = 0
exports.echo = async (x) => x
exports.add = async (x) => { n += x; await System.files.writeFile('/sum', String(n)); return n }
exports.spin = () => { for (;;) {} }
`

function nextFault (cw: ContractWatch, ms = 30_000): Promise<Verdict> {
  if (cw.verdict && cw.verdict.verdict === 'fault') return Promise.resolve(cw.verdict)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no fault in time')), ms)
    cw.once('fault', (v: Verdict) => { clearTimeout(timer); resolve(v) })
  })
}

test('crafted logs: bad signature, replayed nonce, malformed block, lying result, unlogged write, bad genesis', async (t) => {
  const cases: Array<{ name: string, kind: string, craft: (h: Awaited<ReturnType<typeof localHost>>) => Promise<void> }> = [
    {
      name: 'bad signature',
      kind: 'signature',
      async craft ({ host, caller }) {
        const rec = await host.log.call(host.log.length - 1)
        const req = signCall(caller, host.key, rec.request.nonce + 1, 'echo', '[1]')
        req.signature = Buffer.from(req.signature)
        req.signature[0] ^= 1
        await host.log.appendCalls([{ ...rec, request: req }])
      }
    },
    {
      name: 'replayed nonce',
      kind: 'signature',
      async craft ({ host }) {
        const rec = await host.log.call(host.log.length - 1)
        await host.log.appendCalls([rec])
      }
    },
    {
      name: 'malformed block',
      kind: 'malformed',
      async craft ({ host }) {
        await host.log.core.append(Buffer.from([1, 255, 255]))
      }
    },
    {
      name: 'lying result',
      kind: 'result',
      async craft ({ host, caller }) {
        const rec = await host.log.call(host.log.length - 1)
        const req = signCall(caller, host.key, rec.request.nonce + 1, 'echo', '["truth"]')
        await host.log.appendCalls([{ ...rec, request: req, outcome: { ok: true, result: '"lie"', error: null, limit: null }, filesBefore: rec.filesAfter, filesHash: rec.filesHash }])
      }
    },
    {
      name: 'unlogged write inside a call',
      kind: 'files',
      async craft ({ host, caller }) {
        const rec = await host.log.call(host.log.length - 1)
        const drive = host.log.drive!
        await drive.put('/junk', Buffer.from('not from the contract'))
        const req = signCall(caller, host.key, rec.request.nonce + 1, 'echo', '[2]')
        const state = await host.log.filesState(drive.version)
        await host.log.appendCalls([{ ...rec, request: req, outcome: { ok: true, result: '2', error: null, limit: null }, filesBefore: rec.filesAfter, filesAfter: state.version, filesHash: state.hash }])
      }
    }
  ]
  for (const c of cases) {
    const h = await localHost(t, ECHO)
    await h.call('echo', 'a')
    await h.call('add', 1)
    const craftedAt = h.host.log.length
    await c.craft(h)
    const { watcher } = await localWatcher(t, h.store)
    const cw = await watcher.watch(h.host.key)
    const v = await nextFault(cw)
    t.is(v.fault?.kind, c.kind, `${c.name}: ${v.fault?.message}`)
    t.is(v.fault?.index, craftedAt, `${c.name}: names the crafted block`)
    t.is(v.length, craftedAt, `${c.name}: blocks before it are ok`)
    t.is(v.fault?.evidence.records.at(-1)?.index, craftedAt, `${c.name}: evidence holds the block`)
    t.ok(v.fault?.evidence.genesis && v.fault.evidence.records.at(-1)?.block, `${c.name}: raw genesis and block in evidence`)
    if (c.kind === 'result') t.is(v.fault?.cause, 'host', 'two replays agree: the host lied')
  }

  // a genesis that does not hash its source, and a genesis that is not the contract expected
  const h = await localHost(t, ECHO)
  const { watcher } = await localWatcher(t, h.store)
  const cw = await watcher.watch(h.host.key, { expected: { sourceHash: hash(Buffer.from('exports.other = () => 1')) } })
  const v = await nextFault(cw)
  t.is(v.fault?.kind, 'genesis')
  t.is(v.fault?.index, 0)
})

test('nondeterminism leaked by a test runtime is reported as the contract, a lying runtime as the host', async (t) => {
  // the leak: every call gets fresh random bytes as its seed, instead of the recorded one
  const leaky: SandboxFactory = async (source, opts) => wrap(await createSandbox(source, opts), (ctx) => ({ ...ctx, seed: randomBytes(32) }))
  const h = await localHost(t, example('nondeterministic.js'), { factory: leaky })
  await h.call('default')
  await h.call('default')
  const { watcher } = await localWatcher(t, h.store, { factory: leaky })
  const v = await nextFault(await watcher.watch(h.host.key))
  t.is(v.fault?.kind, 'result')
  t.is(v.fault?.index, 1)
  t.is(v.fault?.cause, 'nondeterministic', v.fault?.message)
  t.is(v.fault?.evidence.replays.length, 2, 'both replays are in the evidence')
  t.not(v.fault?.evidence.replays[0]?.result, v.fault?.evidence.replays[1]?.result)
  t.ok(v.runtime.includes('isolated-vm/'), 'runtime fingerprint in the verdict')

  // a host whose runtime reports a wrong counter value: the watcher's two replays agree
  const lying: SandboxFactory = async (source, opts) => wrap(await createSandbox(source, opts), undefined, (out) => out.ok && out.resultJson === '2' ? { ...out, resultJson: '3' } : out)
  const h2 = await localHost(t, example('persistent-counter-fixed.js'), { factory: lying })
  await h2.call('increment')
  await h2.call('increment')
  await h2.call('increment')
  const w2 = await localWatcher(t, h2.store)
  const v2 = await nextFault(await w2.watcher.watch(h2.host.key))
  t.is(v2.fault?.kind, 'result')
  t.is(v2.fault?.index, 2)
  t.is(v2.fault?.cause, 'host', v2.fault?.message)
  t.alike(v2.fault?.evidence.expected.result, '3')
  t.alike(v2.fault?.evidence.observed.result, '2')
})

test('limit records are not replayed: the watcher rebuilds its sandbox as the host does and stays ok', async (t) => {
  const h = await localHost(t, ECHO, { limits: { timeoutMs: 200 } })
  t.is(await h.call('add', 2).then((r) => r.outcome.result), '2')
  const spun = await h.call('spin')
  t.is(spun.outcome.limit, 'timeout')
  t.is(await h.call('add', 3).then((r) => r.outcome.result), '5', 'host state rebuilt without the spin')
  const { watcher } = await localWatcher(t, h.store)
  const cw = await watcher.watch(h.host.key)
  const v = await cw.until(h.host.log.length, 30_000)
  t.is(v.verdict, 'ok', v.fault?.message)
  t.is(v.length, 4)
  t.is(cw.stats.skipped, 1)
  t.is(cw.stats.rebuilds, 1)
})

test('restart resumes from the stored position: judged calls after a restart are only the new ones', async (t) => {
  const h = await localHost(t, example('counter.js'))
  for (let i = 0; i < 10; i++) await h.call('increment')
  const stateDir = tmpdir(t)
  const storeDir = tmpdir(t)
  const first = await localWatcher(t, h.store, { stateDir, storeDir })
  const cw1 = await first.watcher.watch(h.host.key)
  const v1 = await cw1.until(11, 30_000)
  t.is(v1.verdict, 'ok')
  t.is(cw1.stats.judged, 10)
  await first.close()

  for (let i = 0; i < 5; i++) await h.call('increment')
  const second = await localWatcher(t, h.store, { stateDir, storeDir })
  const cw2 = await second.watcher.watch(h.host.key)
  const v2 = await cw2.until(16, 30_000)
  t.is(v2.verdict, 'ok', v2.fault?.message)
  t.is(cw2.stats.resumedFrom, 11, 'resumed at the stored length')
  t.is(cw2.stats.warmup, 10, 'the judged calls were re-executed once, without judging')
  t.is(cw2.stats.judged, 5, 'only the new calls were judged')
})

test('fork: a host that truncates and rewrites its log is caught with two signed roots', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('persistent-counter-fixed.js'), { name: 'pc' })
  const client = await VmsClient.connect(host.key, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000 })
  t.teardown(() => client.close())
  for (let i = 0; i < 4; i++) await client.increment()
  const watcher = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap, rootInterval: 50 })
  t.teardown(() => watcher.close())
  const cw = await watcher.watch(host.key)
  await cw.until(5, 30_000)
  await until(() => cw.statements.some((s) => s.length === 5), 10_000)
  t.ok(cw.verdict?.statement, 'the ok verdict carries the host-signed root at its length')

  // the host rewrites history in-process (a client would refuse once the watcher's fault attestation reaches it)
  await rewriteHistory(host, 3)
  const v = await nextFault(cw)
  t.is(v.fault?.kind, 'fork', v.fault?.message)
  t.is(v.fault?.cause, 'host')
  t.ok(v.fault!.index <= 3, 'names the first rewritten block')
  const [a, b] = v.fault!.evidence.statements
  t.ok(a && b, 'two signed statements')
  const genesis = host.genesis
  t.is(checkForkEvidence(a!, b!, genesis.signer, host.key), 'fork', 'the two statements prove the fork offline')

  const file = path.join(tmpdir(t), 'fork.json')
  fs.writeFileSync(file, JSON.stringify(v))
  const checked = await cliRun(['check', file, '--json'])
  t.is(checked.code, 0, 'vms-node check accepts the verdict file offline: ' + checked.stdout)
  t.is(JSON.parse(checked.stdout).kind, 'fork')
  const forged = { ...v, fault: { ...v.fault, evidence: { ...v.fault!.evidence, statements: [a, a] } } }
  fs.writeFileSync(file, JSON.stringify(forged))
  t.is((await cliRun(['check', file])).code, 1, 'the same statement twice proves nothing')
})

test('client audit option: VmsClient.connect(key, { audit: true }) judges in the background', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('rsvp.js'), { name: 'rsvp' })
  const client = await VmsClient.connect(host.key, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000, audit: true })
  t.teardown(() => client.close())
  await client.RSVP('bob', true, 'yes')
  await client.RSVP('bob', false, 'no')
  const v = await client.auditor!.until(4, 30_000)
  t.is(v.verdict, 'ok')
  t.is(client.verdict?.length, 4)
})

test('root statements: equivocation and truncation are provable offline; tampered or foreign statements are not', (t) => {
  const signer = keyPair()
  const contract = randomBytes(32)
  const stmt = (length: number, fork: number, treeHash: Buffer): RootStatement => {
    const body = { contract, length, fork, treeHash }
    return { ...body, signature: sign(rootSignable(body), signer.secretKey) }
  }
  const book = new RootBook(contract, signer.publicKey)
  const a = stmt(5, 0, randomBytes(32))
  t.is(book.add(a).status, 'kept')
  t.is(book.add(stmt(7, 0, randomBytes(32))).status, 'kept', 'a longer log under the same fork is fine')
  const b = stmt(5, 0, randomBytes(32))
  const r = book.add(b)
  t.is(r.status, 'conflict')
  t.is(r.status === 'conflict' ? r.kind : null, 'equivocation')
  t.is(checkForkEvidence(statementToJSON(a), statementToJSON(b), signer.publicKey, contract), 'equivocation')
  t.is(checkForkEvidence(statementToJSON(a), statementToJSON(stmt(3, 1, randomBytes(32))), signer.publicKey, contract), 'fork')
  t.is(checkForkEvidence(statementToJSON(a), statementToJSON(stmt(9, 0, randomBytes(32))), signer.publicKey, contract), null, 'consistent statements prove nothing')
  const forged = { ...statementToJSON(b), treeHash: statementToJSON(stmt(5, 0, randomBytes(32))).treeHash }
  t.is(checkForkEvidence(statementToJSON(a), forged, signer.publicKey, contract), null, 'a tampered statement is not evidence')
  t.is(checkForkEvidence(statementToJSON(a), statementToJSON(b), keyPair().publicKey, contract), null, 'statements must verify with the genesis signer')
  t.is(book.add({ ...b, signature: Buffer.alloc(64) }).status, 'invalid')
})

test('root statements: past the cap the kept ones are thinned out over the whole log, so a watcher far behind its host still has a root just ahead of it', (t) => {
  const signer = keyPair()
  const contract = randomBytes(32)
  const stmt = (length: number): RootStatement => {
    const body = { contract, length, fork: 0, treeHash: randomBytes(32) }
    return { ...body, signature: sign(rootSignable(body), signer.secretKey) }
  }
  const book = new RootBook(contract, signer.publicKey)
  let kept = 0
  for (let length = 10; length <= 10_000; length += 10) if (book.add(stmt(length)).status === 'kept') kept++ // one root a poll, 1,000 polls
  t.is(kept, 1000)
  const lengths = book.statements.map((s) => s.length).sort((a, b) => a - b)
  t.is(lengths.length, 64, 'at most 64 kept')
  t.is(lengths[0], 10, 'the first of the fork stays')
  t.is(lengths.at(-1), 10_000, 'and the newest')
  const widest = Math.max(...lengths.slice(1).map((l, i) => l - lengths[i]!))
  t.ok(widest <= 2 * 10_000 / 63, `spread out: the widest gap is ${widest} blocks`)
})

function wrap (sb: Sandbox, before?: (ctx: Parameters<Sandbox['call']>[0]) => Parameters<Sandbox['call']>[0], after?: (out: Awaited<ReturnType<Sandbox['call']>>) => Awaited<ReturnType<Sandbox['call']>>): Sandbox {
  return withCall(sb, async (ctx) => {
    const out = await sb.call(before ? before(ctx) : ctx)
    return after ? after(out) : out
  })
}

async function until (cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

export type { KeyPair, HostNode }
