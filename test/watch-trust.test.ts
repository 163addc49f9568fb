// Watchers and `verify` trust nothing but the contract key: a peer that
// answers forged roots never sets what is audited, a fault found before any
// root still leaves the watcher, and files written behind the log are caught
// at the drive's head, with evidence `check` accepts offline. See
// docs/threat-model.md.

import test from 'brittle'
import type { Test } from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { HostNode } from '../src/host/host-node.js'
import { discoveryKey, hash } from '../src/crypto.js'
import { signCall } from '../src/caller.js'
import type { ContractHost } from '../src/host/contract-host.js'
import { createSandbox, runtimeFingerprint } from '../src/runtime/sandbox.js'
import type { Testnet } from 'hyperdht/testnet.js'
import { VERDICT_FAULT, type HeadStatement } from '../protocol/index.js'
import { checkHeadEvidence, checkLastBlock, headToJSON, lastBlockProof, type HeadJSON } from '../src/attest/head-evidence.js'
import { bootstrapArg, cliRun, example, identity, testnet, tmpdir } from './helpers.js'
import { connect, nextFault, until, watcherOn, type FT } from './fault-helpers.js'
import { impostorRoots } from './impostor-roots.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

async function startHost (t: FT, net: Testnet, storage: string): Promise<{ node: HostNode, host: ContractHost }> {
  const node = new HostNode({ storage, sandboxFactory: createSandbox, runtime: runtimeFingerprint(), bootstrap: net.bootstrap })
  t.teardown(() => node.close())
  const host = await node.deploy(example('persistent-counter-fixed.js'), { name: 'pc' })
  return { node, host }
}

/** The operator's edit: a stock Corestore + Hyperdrive on the stopped host's storage. */
async function editBehindLog (storage: string, file: string, data: string): Promise<void> {
  const store = new Corestore(path.join(storage, 'corestore'))
  const drive = new Hyperdrive(store.namespace('contract/pc').namespace('files'))
  await drive.ready()
  await drive.put(file, Buffer.from(data))
  await drive.close()
  await store.close()
}

/** A host whose log holds a real files fault: 3 calls, an edit behind the log, a 4th call (the fault). */
async function faultyHost (t: FT & Test, net: Testnet): Promise<{ node: HostNode, host: ContractHost, faultAt: number }> {
  const storage = tmpdir(t)
  const first = await startHost(t, net, storage)
  const c1 = await connect(t, net, first.host.key)
  for (let i = 0; i < 3; i++) await c1.increment()
  await c1.close()
  await first.node.close()
  await editBehindLog(storage, '/counter', '100')
  const again = await startHost(t, net, storage)
  const c2 = await connect(t, net, again.host.key)
  t.is(await c2.increment(), 101, 'the host served the edited state')
  await c2.close()
  return { ...again, faultAt: again.host.log.length - 1 }
}

test('verify with an impostor answering forged roots still finds the files fault', async (t) => {
  const net = await testnet(t)
  const { host, faultAt } = await faultyHost(t, net)
  const impostor = await impostorRoots(t, net, host.key, 2)
  const r = await cliRun(['verify', host.key.toString('hex'), '--bootstrap', bootstrapArg(net), '--timeout', '15000', '--json'], { timeoutMs: 120_000 })
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!)
  t.comment(`impostor answered ${impostor.roots} root requests`)
  t.is(r.code, 1, 'verify exits 1 (fault): ' + r.stdout.slice(0, 300) + r.stderr)
  t.is(out.verdict, 'fault')
  t.is(out.fault?.kind, 'files')
  t.is(out.fault?.index, faultAt, 'the call after the edit')
  if (impostor.roots > 0) t.ok(out.warnings.some((w: { code: string }) => w.code === 'FORGED_ROOT'), 'the impostor\'s root was found forged and its peer dropped')
})

test('a fault found before any root is attested once a root is fetched, gossiped, and a fresh client refuses the contract (CONTRACT_FAULTY)', async (t) => {
  const net = await testnet(t)
  const { node, host, faultAt } = await faultyHost(t, net)
  const w = await watcherOn(t, net)
  const cw = await w.watch(host.key, { start: false })
  t.ok(await until(() => cw.connected && cw.log.core.length === host.log.length), 'the watcher replicated the log and reached the host RPC')
  t.is(cw.statements.length, 0, 'no root held yet')
  cw.start()
  const v = await nextFault(cw)
  t.is(v.fault?.kind, 'files')
  t.is(v.fault?.index, faultAt)
  const mine = (a: { verdict: number, watcher: Uint8Array }): boolean => a.verdict === VERDICT_FAULT && hex(a.watcher) === hex(w.identity.publicKey)
  t.ok(await until(() => node.attestations.faults(host.key).some(mine), 20_000), 'the fault attestation reached the host')
  const fresh = await connect(t, net, host.key)
  t.ok(await until(() => fresh.attestations.faults(host.key).some(mine), 20_000), 'and a fresh client')
  await t.exception(fresh.increment(), /CONTRACT_FAULTY/, 'which refuses the contract')
})

test('files edited behind the log after the last call (stock Corestore + Hyperdrive, host restarted, no further call): a watcher reports a files fault at once, verify exits 1, check accepts the evidence', async (t) => {
  const net = await testnet(t)
  const storage = tmpdir(t)
  const first = await startHost(t, net, storage)
  const c1 = await connect(t, net, first.host.key)
  for (let i = 0; i < 3; i++) await c1.increment()
  await c1.close()
  await first.node.close()
  await editBehindLog(storage, '/counter', '100')
  const { host } = await startHost(t, net, storage)
  const length = host.log.length

  const w = await watcherOn(t, net)
  const start = Date.now()
  const cw = await w.watch(host.key)
  const v = await nextFault(cw)
  t.comment(`fault ${Date.now() - start} ms after the watcher started`)
  t.is(v.fault?.kind, 'files', v.fault?.message)
  t.is(v.fault?.cause, 'host')
  t.is(v.fault?.index, length, 'at the drive head, past the last record')
  t.is(v.length, length, 'every logged call is ok')
  const changes = (v.fault?.evidence.observed.unloggedChanges ?? []) as Array<{ path: string }>
  t.alike(changes.map((c) => c.path), ['/counter'], 'the evidence names the path written behind the log')

  const file = path.join(tmpdir(t), 'evidence.json')
  fs.writeFileSync(file, JSON.stringify(v))
  const checked = await cliRun(['check', file, '--json'])
  t.is(checked.code, 0, 'check accepts the evidence offline: ' + checked.stdout + checked.stderr)
  t.is(JSON.parse(checked.stdout).kind, 'files')

  const r = await cliRun(['verify', host.key.toString('hex'), '--bootstrap', bootstrapArg(net), '--timeout', '15000', '--json'], { timeoutMs: 120_000 })
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!)
  t.is(r.code, 1, 'verify exits 1: ' + r.stdout.slice(0, 300))
  t.is(out.fault?.kind, 'files')
  t.is(out.fault?.index, length)
  const mine = (x: { verdict: number, watcher: Uint8Array }): boolean => x.verdict === VERDICT_FAULT && hex(x.watcher) === hex(w.identity.publicKey)
  const fresh = await connect(t, net, host.key)
  t.ok(await until(() => fresh.attestations.faults(host.key).some(mine), 20_000), 'the fault is gossiped to a fresh client')
  await t.exception(fresh.increment(), /CONTRACT_FAULTY/, 'which refuses the contract')
})

test('a host that signs no head while the drive it serves is ahead of its log is flagged (HEAD_UNPROVEN), not faulted', async (t) => {
  const net = await testnet(t)
  const storage = tmpdir(t)
  const first = await startHost(t, net, storage)
  const c1 = await connect(t, net, first.host.key)
  await c1.increment()
  await c1.close()
  await first.node.close()
  await editBehindLog(storage, '/counter', '100')
  const { host } = await startHost(t, net, storage)
  host.head = async () => { throw new Error('this host signs no heads') }
  const w = await watcherOn(t, net)
  const cw = await w.watch(host.key)
  const warnings: string[] = []
  cw.on('warning', (e: { code?: string }) => { if (e.code) warnings.push(e.code) })
  t.ok(await until(() => warnings.includes('HEAD_UNPROVEN'), 20_000), 'flagged: ' + warnings.join(', '))
  t.is(cw.faulted, null, 'not proven: no fault')
  t.is(cw.verdict?.verdict, 'ok')
  const r = await cliRun(['verify', host.key.toString('hex'), '--bootstrap', bootstrapArg(net), '--timeout', '15000', '--json'], { timeoutMs: 120_000 })
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!)
  t.is(r.code, 0, 'verify finds no fault it can prove')
  t.ok(out.warnings.some((w: { code: string }) => w.code === 'HEAD_UNPROVEN'), 'but says the drive head is unproven')
})

test('an honest host under a burst of calls never signs a head its log does not cover; an old root beside a newer drive is no evidence; forged heads only drop their peer', async (t) => {
  const net = await testnet(t)
  const { host } = await startHost(t, net, tmpdir(t))
  const w = await watcherOn(t, net)
  const cw = await w.watch(host.key)
  const faults: string[] = []
  cw.on('fault', (v) => faults.push(JSON.stringify(v.fault).slice(0, 300)))
  const clients = await Promise.all([0, 1, 2].map(() => connect(t, net, host.key)))
  const genesis = hex(await host.log.core.get(0) as Buffer)
  const heads: HeadStatement[] = []
  let burst = true
  const asking = (async () => {
    while (burst) heads.push(await host.head())
  })()
  const old = await host.root()
  await Promise.all(clients.map(async (c) => {
    for (let round = 0; round < 4; round++) await Promise.all(Array.from({ length: 10 }, () => c.increment()))
  }))
  burst = false
  await asking
  const final = host.log.length
  await cw.until(final, 60_000)
  t.ok(await until(() => cw.verdict?.length === final, 30_000), 'the watcher judged every call')
  t.alike(faults, [], 'no fault')
  t.comment(`${heads.length} heads signed during the burst; the watcher checked ${cw.headChecks}; forged answers ${cw.forgedRoots}`)
  t.ok(heads.length > 10, 'heads were signed while groups were in flight')

  const evidence = async (h: { length: number }, head: HeadJSON): Promise<string> => {
    const rec = { index: h.length - 1, block: hex(await host.log.core.get(h.length - 1) as Buffer) }
    return JSON.stringify({ contract: headToJSON(heads[0]!).contract, genesis, records: [rec], head, inclusion: await lastBlockProof(host.log.core, h.length) })
  }
  let agreed = 0
  for (const h of heads) {
    const c = checkHeadEvidence(JSON.parse(await evidence(h, headToJSON(h))))
    if (!c.valid && /agrees with the log/.test(c.reason)) agreed++
    else t.fail('a head the log does not cover: ' + c.reason)
  }
  t.is(agreed, heads.length, 'every signed head agrees with the log it names')

  // an adversarial watcher pairs an old root with the newer drive
  const drive = host.log.drive!
  const forged = { ...headToJSON({ ...old, filesLength: drive.core.length, filesTreeHash: await drive.core.treeHash(drive.core.length) }), signature: hex(old.signature) }
  const file = path.join(tmpdir(t), 'forged.json')
  fs.writeFileSync(file, await evidence(old, forged))
  const checked = await cliRun(['check', file, '--json'])
  t.is(checked.code, 1, 'check rejects an old root beside a newer drive: ' + checked.stdout)
  t.is(JSON.parse(checked.stdout).valid, false)

  // a peer with forged roots and heads joins (after the clients: refusing it is the client's part)
  const impostor = await impostorRoots(t, net, host.key, 2)
  await w.swarm!.join(discoveryKey(host.key), { server: false, client: true }).refresh() // look the topic up again now
  t.ok(await until(() => impostor.connections > 0, 20_000), 'the watcher reached the impostor')
  await host.call(signCall(identity(), host.key, 1, 'increment', '[]')) // one more call: the watcher asks every peer for roots
  t.ok(await until(() => cw.forgedRoots > 0 && impostor.dropped > 0, 20_000), 'the impostor\'s forged answers dropped it')
  await new Promise((resolve) => setTimeout(resolve, 1000))
  t.alike(faults, [], 'and the host was never blamed')
})

test('a watcher whose first peer is an impostor keeps looking until a peer proves itself, then judges the real host', async (t) => {
  const net = await testnet(t)
  const storage = tmpdir(t)
  const first = await startHost(t, net, storage)
  const key = first.host.key
  await first.node.close()
  const impostor = await impostorRoots(t, net, key, 2)
  const w = await watcherOn(t, net, { lookup: { minMs: 300, maxMs: 1000 } })
  const cw = await w.watch(key)
  t.ok(await until(() => impostor.connections > 0, 20_000), 'the watcher reached the impostor first')
  await new Promise((resolve) => setTimeout(resolve, 1000))
  t.absent(cw.proven, 'the impostor proved nothing')
  const { host } = await startHost(t, net, storage)
  const v = await cw.until(host.log.length, 30_000)
  t.is(v.verdict, 'ok')
  t.is(v.length, host.log.length, 'the real host was found and judged')
  t.ok(await until(() => cw.proven, 20_000), 'and proved itself with a signed root')
})

test('verify beside a peer that never answers roots: judged as soon as the host proved itself, not after the request timeout', async (t) => {
  const net = await testnet(t)
  const { host } = await startHost(t, net, tmpdir(t))
  const c = await connect(t, net, host.key)
  for (let i = 0; i < 3; i++) await c.increment()
  const impostor = await impostorRoots(t, net, host.key, 2, { stall: true })
  const start = Date.now()
  const r = await cliRun(['verify', host.key.toString('hex'), '--bootstrap', bootstrapArg(net), '--timeout', '30000', '--json'], { timeoutMs: 120_000 })
  const ms = Date.now() - start
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!)
  t.comment(`verify took ${ms} ms; the stalling peer got ${impostor.roots} root requests`)
  t.is(r.code, 0, r.stdout.slice(0, 300) + r.stderr)
  t.is(out.length, host.log.length)
  t.ok(ms < 20_000, 'well inside the 30 s request timeout')
})

test('head evidence inclusion proofs: the last block of every length verifies under its tree hash, from stored nodes or from the blocks; another block or length does not', async (t) => {
  const store = new Corestore(tmpdir(t))
  t.teardown(() => store.close())
  const core = store.get({ name: 'log' })
  await core.ready()
  const blocks = Array.from({ length: 37 }, (_, i) => Buffer.from(`block ${i} `.repeat(i + 1)))
  let bad = 0
  for (let i = 0; i < blocks.length; i++) {
    await core.append(blocks[i]!)
    const length = i + 1
    const treeHash = await core.treeHash(length)
    const stored = await lastBlockProof(core, length)
    const computed = await lastBlockProof({ get: (k: number, o: unknown) => core.get(k, o as { wait: boolean }) } as unknown as typeof core, length)
    if (!checkLastBlock(blocks[i]!, stored, length, treeHash)) bad++
    if (!checkLastBlock(blocks[i]!, computed, length, treeHash)) bad++
    if (i > 0 && checkLastBlock(blocks[i - 1]!, stored, length, treeHash)) bad++
    if (checkLastBlock(blocks[i]!, stored, length + 1, treeHash)) bad++
  }
  t.is(bad, 0, 'every proof checks, no forged one does')
})

test('attack: a watcher told to expect another contract (--source) reports the mismatch but never attests it, so an honest host is not blamed and its clients keep calling', async (t) => {
  const net = await testnet(t)
  const { node, host } = await startHost(t, net, tmpdir(t))
  const c = await connect(t, net, host.key)
  await c.increment()
  const w = await watcherOn(t, net)
  const cw = await w.watch(host.key, { expected: { sourceHash: hash(Buffer.from('exports.other = async () => 1\n')) } })
  const v = await nextFault(cw)
  t.is(v.fault?.kind, 'genesis', 'the watcher reports that the log runs another contract')
  t.is(v.fault?.cause, 'expectation', 'as its own expectation failing, not as the host\'s fault')
  const mine = (a: { watcher: Uint8Array }): boolean => hex(a.watcher) === hex(w.identity.publicKey)
  await new Promise((resolve) => setTimeout(resolve, 3000)) // more than its attest interval and a gossip round
  t.absent(node.attestations.faults(host.key).some(mine), 'no fault attestation of it reached the host')
  const fresh = await connect(t, net, host.key)
  t.ok(await fresh.increment() !== undefined, 'a fresh client still calls the contract')
})
