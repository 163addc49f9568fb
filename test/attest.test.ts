// Watchers sign attestations of their verdicts and gossip them to every node;
// clients wait for a quorum of them; a host that shows two logs under one key
// is caught by the signed statements alone.

import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { Watcher } from '../src/watch/watcher.js'
import { Attester } from '../src/watch/attester.js'
import { HostNode } from '../src/host/host-node.js'
import { createSandbox, runtimeFingerprint } from '../src/runtime/sandbox.js'
import { signCall } from '../src/caller.js'
import { checkEvidence } from '../src/attest/evidence.js'
import { VERDICT_EQUIVOCATION, VERDICT_OK } from '../protocol/index.js'
import type { AttestationStore } from '../src/attest/store.js'
import { attestHost } from './attest-helpers.js'
import { factoryWithCall } from './local-helpers.js'
import { connectClient, example, hostNode, identity, testnet, tmpdir, until } from './helpers.js'
import type { T } from './helpers.js'
import type { Testnet } from 'hyperdht/testnet.js'

async function watcher (t: T, net: Testnet, key: Uint8Array, opts: { firewallOf?: never } = {}): Promise<Watcher> {
  const w = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap, rootInterval: 200, attest: { everyCalls: 10, everyMs: 200 }, ...opts })
  t.teardown(() => w.close())
  await w.watch(key)
  return w
}

const client = connectClient

function okAt (store: AttestationStore, key: Uint8Array, length: number): number {
  return store.latest(key).filter((a) => a.verdict === VERDICT_OK && a.length >= length).length
}

test('attestations: host + 3 watchers + 1 client; every node ends up with all 3 watchers\' latest ok attestations, a late node catches up', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('rsvp.js'), { name: 'rsvp' })
  const watchers = [await watcher(t, net, host.key), await watcher(t, net, host.key), await watcher(t, net, host.key)]
  const c = await client(t, net, host.key)
  for (let i = 0; i < 25; i++) await c.RSVP('guest ' + i, i % 2 === 0)
  const final = host.log.length

  const stores = [node.attestations, c.attestations, ...watchers.map((w) => w.gossip.store)]
  t.ok(await until(() => stores.every((s) => okAt(s, host.key, final) === 3)), 'host, client and every watcher hold three ok attestations at the final length')
  const latest = c.attestations.latest(host.key)
  t.alike(new Set(latest.map((a) => Buffer.from(a.watcher).toString('hex'))).size, 3, 'from three distinct watchers')
  t.ok(latest.every((a) => a.runtime.startsWith('vms-node/') && !a.trusted), 'runtime fingerprint, trustless')

  const late = await client(t, net, host.key)
  t.ok(await until(() => okAt(late.attestations, host.key, final) === 3), 'a client that joins later catches up')

  // quorum with real watchers
  const q = await client(t, net, host.key, { quorum: 2, quorumTimeout: 20_000 })
  await q.RSVP('quorum guest', true)
  t.ok(okAt(q.attestations, host.key, q.lastReceipt!.root.length) >= 2, 'the call returned once two watchers attested its log length')
  const q4 = await client(t, net, host.key, { quorum: 4, quorumTimeout: 2000 })
  await t.exception(q4.RSVP('too strict', true), /QUORUM_TIMEOUT: 3 of 4 watchers/, 'with three watchers a quorum of four times out clearly')
})

test('split view: one key, two stores serving two logs to two watchers; equivocation detected from signed statements and gossiped to every node', async (t) => {
  const net = await testnet(t)
  const dirA = tmpdir(t)
  const dirB = tmpdir(t)
  const operator = identity()
  fs.writeFileSync(path.join(dirA, 'identity.json'), JSON.stringify({ publicKey: operator.publicKey.toString('hex'), secretKey: operator.secretKey.toString('hex') }))

  // build a log, then copy the whole storage: two hosts with one key pair
  const first = new HostNode({ storage: dirA, sandboxFactory: createSandbox, runtime: runtimeFingerprint(), bootstrap: net.bootstrap })
  const h0 = await first.deploy(example('counter.js'), { name: 'counter' })
  const caller = identity()
  await h0.call(signCall(caller, h0.key, 1, 'increment', '[]'))
  await first.close()
  fs.cpSync(dirA, dirB, { recursive: true })
  fs.rmSync(path.join(dirB, 'corestore', 'CORESTORE')) // the store's device file refuses copies: the operator deletes it
  fs.rmSync(path.join(dirB, 'node-key.json')) // and the node key, or both copies would answer on the DHT as one node

  const blockedByA = new Set<string>()
  const blockedByB = new Set<string>()
  const open = async (dir: string, blocked: Set<string>): Promise<HostNode> => {
    const n = new HostNode({ storage: dir, sandboxFactory: createSandbox, runtime: runtimeFingerprint(), bootstrap: net.bootstrap, firewall: (k) => blocked.has(k.toString('hex')) })
    t.teardown(() => n.close())
    return n
  }
  const nodeA = await open(dirA, blockedByA)
  const nodeB = await open(dirB, blockedByB)
  const hostA = await nodeA.deploy(example('counter.js'), { name: 'counter' })
  const hostB = await nodeB.deploy(example('counter.js'), { name: 'counter' })
  t.alike(hostA.key, hostB.key, 'same contract key')
  // the two copies diverge: same length, different calls
  await hostA.call(signCall(caller, hostA.key, 2, 'increment', '[]'))
  await hostB.call(signCall(identity(), hostB.key, 2, 'increment', '[]'))
  t.is(hostA.log.length, hostB.log.length)

  // watcher 1 only ever reaches A, watcher 2 only B (and not each other: serving watchers would meet and see the split at once)
  const w1 = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap, rootInterval: 200, attest: { everyCalls: 1, everyMs: 100 }, serve: false })
  const w2 = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap, rootInterval: 200, attest: { everyCalls: 1, everyMs: 100 }, serve: false })
  t.teardown(() => w1.close())
  t.teardown(() => w2.close())
  await w1.ready()
  await w2.ready()
  blockedByB.add(w1.swarm!.keyPair.publicKey.toString('hex'))
  blockedByA.add(w2.swarm!.keyPair.publicKey.toString('hex'))
  await w1.watch(hostA.key)
  await w2.watch(hostB.key)
  t.ok(await until(() => okAt(w1.gossip.store, hostA.key, hostA.log.length) >= 1 && okAt(w2.gossip.store, hostB.key, hostB.log.length) >= 1), 'each watcher judged its host ok')

  // a client that reaches both hosts carries the two views across; someone notices the split
  const c = await client(t, net, hostA.key)
  const sawFault = (s: AttestationStore): boolean => s.faults(hostA.key).some((a) => a.verdict === VERDICT_EQUIVOCATION)
  t.ok(await until(() => [c.attestations, w1.gossip.store, w2.gossip.store, nodeA.attestations, nodeB.attestations].every(sawFault)), 'an equivocation fault reached the client, both watchers and both hosts')
  const fault = c.attestations.faults(hostA.key).find((a) => a.verdict === VERDICT_EQUIVOCATION)!
  const evidence = JSON.parse(fault.fault!.evidence)
  t.is(evidence.type, 'equivocation')
  t.ok(checkEvidence(evidence).valid, 'the evidence is exactly two valid, distinct host statements')
  await t.exception(c.increment(), /CONTRACT_FAULTY/, 'the client refuses the contract')
})

test('attester: a verdict whose block read fails because its watch closed (the watcher shutting down) is dropped, not a crash of the process', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('rsvp.js'), { name: 'rsvp' })
  const c = await client(t, net, host.key)
  await c.RSVP('guest', true)
  const w = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap, rootInterval: 50, attest: false })
  t.teardown(() => w.close())
  const cw = await w.watch(host.key)
  const v = await cw.until(host.log.length, 20_000)
  t.is(v.verdict, 'ok')
  t.ok(await until(() => cw.statements.some((s) => s.length === host.log.length)), 'the watcher holds a root at the judged length')

  // the attester follows a watch whose log session closes under it: its next ok attestation reads a block of a closed session
  const attester = new Attester(w.gossip, w.identity, { everyCalls: 1, everyMs: 10 })
  const stop = attester.follow(cw)
  t.teardown(stop)
  await cw.log.core.close()
  const unhandled: unknown[] = []
  const onunhandled = (err: unknown): void => { unhandled.push(err) }
  process.on('unhandledRejection', onunhandled)
  t.teardown(() => { process.off('unhandledRejection', onunhandled) })
  cw.emit('verdict', v)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.alike(unhandled.map(String), [], 'no unhandled SESSION_CLOSED')
  t.absent(w.gossip.store.latest(host.key).some((a) => Buffer.from(a.watcher).equals(w.identity.publicKey)), 'nothing attested from a closed watch')
})

test('attack: a fault attestation of cause unknown (a watcher whose machine could not run a replay) gossiped to clients does not make them refuse an honest host; one blaming the host does', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const c = await client(t, net, host.key)
  t.is(await c.increment(), 1)
  node.gossip.publish(await attestHost(host, identity(), 'unknown'))
  node.gossip.publish(await attestHost(host, identity(), 'unknown'))
  t.ok(await until(() => c.attestations.faults(host.key).length === 2), 'the client holds both')
  t.is(await c.increment(), 2, 'could-not-judge claims are no evidence against the host: the call is served')
  node.gossip.publish(await attestHost(host, identity(), 'host'))
  t.ok(await until(() => c.attestations.faults(host.key).length === 3))
  await t.exception(c.increment(), /CONTRACT_FAULTY/, 'a fault blaming the host is refused by default (faultQuorum 1)')
})

test('a watcher judging a backlog that the host keeps growing keeps asking for roots and attesting as it goes (it attested only at the root it held before the backlog)', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const c = await client(t, net, host.key)
  const burst = async (n: number): Promise<void> => { await Promise.all(Array.from({ length: n }, async () => await c.increment())) }
  for (let i = 0; i < 10; i++) await burst(30)
  // a watcher slower than its host: every replay takes 5 ms more, one after another, as in a slower
  // sandbox (the judge asks for several at once: concurrent delays would not slow it)
  let tail: Promise<unknown> = Promise.resolve()
  const slow = factoryWithCall(createSandbox, async (sb, ctx) => {
    const run = tail.then(async () => { await new Promise((resolve) => setTimeout(resolve, 5)); return await sb.call(ctx) })
    tail = run.catch(() => {})
    return await run
  })
  const w = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap, rootInterval: 100, sandboxFactory: slow, attest: { everyCalls: 10, everyMs: 100 } })
  t.teardown(() => w.close())
  const cw = await w.watch(host.key)
  const attested = new Set<number>()
  let behind = true
  const sampler = setInterval(() => {
    for (const a of w.gossip.store.latest(host.key)) if (a.verdict === VERDICT_OK) attested.add(a.length)
  }, 20)
  t.teardown(() => clearInterval(sampler))
  const until6s = Date.now() + 6000
  while (Date.now() < until6s) {
    await burst(20) // the host's growth: about 400 calls/s, twice the watcher's pace
    await new Promise((resolve) => setTimeout(resolve, 40))
    if (cw.verdict && cw.verdict.length >= host.log.length) behind = false
  }
  clearInterval(sampler)
  const firstRoot = Math.min(...attested)
  t.ok(behind, `the watcher never caught up during the load (judged ${cw.verdict?.length ?? 0} of ${host.log.length})`)
  t.ok(attested.size >= 4, `it attested at ${attested.size} lengths while behind: ${[...attested].sort((a, b) => a - b).join(', ')}`)
  t.ok(Math.max(...attested) > firstRoot + 200, 'well past the first root it held')
  t.is((await cw.until(host.log.length, 60_000)).verdict, 'ok')
})

test('a watcher keeps handing the roots it gets to its attestation store (the split-view check) after it has kept more than 64 of them', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const c = await client(t, net, host.key)
  const w = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap, rootInterval: 20, attest: { everyCalls: 1, everyMs: 10 } })
  t.teardown(() => w.close())
  const cw = await w.watch(host.key)
  const store = w.gossip.store
  const fed: number[] = []
  const addStatement = store.addStatement.bind(store)
  store.addStatement = (s, signer) => { fed.push(s.length); return addStatement(s, signer) }
  for (let i = 0; i < 80; i++) {
    await c.increment()
    const length = host.log.length
    t.ok(await until(() => cw.statements.some((s) => s.length === length) && (cw.verdict?.length ?? 0) >= length), `a root at ${length}`)
  }
  t.is(cw.statements.length, 64, 'the watcher keeps 64')
  t.ok(await until(() => fed.includes(host.log.length)), `the newest root (length ${host.log.length}) reached the store; the last fed was at ${fed.at(-1)}`)
})
