// Fault suite, the call log: a host that rewrites its history (the fork
// fault travels by gossip), a stale copy of a host shown to one watcher
// (freshness), and a host that drops an acknowledged call (the caller's
// receipt proves it). See docs/threat-model.md.

import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import type { SwarmConnection } from 'hyperswarm'
import { HostNode } from '../src/host/host-node.js'
import { createSandbox, runtimeFingerprint } from '../src/runtime/sandbox.js'
import { signCall } from '../src/caller.js'
import { discoveryKey } from '../src/crypto.js'
import { verifyAttestation } from '../src/attest/attestation.js'
import { AttestationStore } from '../src/attest/store.js'
import { Gossip } from '../src/net/gossip.js'
import { createSwarm } from '../src/net/swarm.js'
import { VERDICT_EQUIVOCATION, VERDICT_FAULT, VERDICT_OK } from '../protocol/index.js'
import type { StaleReport } from '../src/watch/freshness.js'
import { cliRun, example, hostNode, identity, rewriteHistory, testnet, tmpdir } from './helpers.js'
import { connect, nextFault, until, watcherOn } from './fault-helpers.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

test('host truncates and rewrites its log -> fork fault attested and gossiped to every client, which refuse the contract; check accepts the evidence', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('persistent-counter-fixed.js'), { name: 'pc' })
  const a = await connect(t, net, host.key)
  for (let i = 0; i < 4; i++) await a.increment()
  const w = await watcherOn(t, net)
  const cw = await w.watch(host.key)
  await cw.until(5, 30_000)
  t.ok(await until(() => cw.statements.some((s) => s.length === 5)), 'the watcher holds the host-signed root of length 5')
  const b = await connect(t, net, host.key)

  await rewriteHistory(host, 3)
  const v = await nextFault(cw)
  t.is(v.fault?.kind, 'fork', v.fault?.message)

  const fromWatcher = (s: AttestationStore) => s.faults(host.key).find((f) => f.verdict === VERDICT_FAULT && hex(f.watcher) === hex(w.identity.publicKey))
  t.ok(await until(() => !!fromWatcher(b.attestations) && !!fromWatcher(node.attestations)), 'the watcher\'s fault attestation reached the host and a client that never talked to the watcher')
  const att = fromWatcher(b.attestations)!
  t.ok(verifyAttestation(att), 'the attestation verifies (watcher signature, host root signature, signer bound to the contract key)')
  t.is(att.fault?.kind, 'fork')
  await t.exception(b.increment(), /CONTRACT_FAULTY/, 'the client refuses to call a contract with a verified fault')

  const file = path.join(tmpdir(t), 'attestation.json')
  fs.writeFileSync(file, JSON.stringify({ fault: { evidence: att.fault!.evidence } }))
  const checked = await cliRun(['check', file, '--json'])
  t.is(checked.code, 0, 'check accepts the gossiped evidence offline: ' + checked.stdout)
  t.is(JSON.parse(checked.stdout).kind, 'fork')
})

test('stale log: a copy of the host that stopped appending serves one watcher -> flagged stale once gossip shows a longer signed root', async (t) => {
  const net = await testnet(t)
  const dirA = tmpdir(t)
  const dirB = tmpdir(t)
  const first = new HostNode({ storage: dirA, sandboxFactory: createSandbox, runtime: runtimeFingerprint(), bootstrap: net.bootstrap })
  const h0 = await first.deploy(example('counter.js'), { name: 'counter' })
  await h0.call(signCall(identity(), h0.key, 1, 'increment', '[]'))
  await first.close()
  fs.cpSync(dirA, dirB, { recursive: true }) // the copy: same key pair, same log, and it will never append again
  fs.rmSync(path.join(dirB, 'corestore', 'CORESTORE'))
  fs.rmSync(path.join(dirB, 'node-key.json')) // two nodes on the DHT, not one answering from two places

  const blockedByA = new Set<string>()
  const allowedByB = new Set<string>()
  const open = async (dir: string, firewall: (k: Buffer) => boolean): Promise<HostNode> => {
    const n = new HostNode({ storage: dir, sandboxFactory: createSandbox, runtime: runtimeFingerprint(), bootstrap: net.bootstrap, firewall })
    t.teardown(() => n.close())
    return n
  }
  const nodeA = await open(dirA, (k) => blockedByA.has(hex(k)))
  const nodeB = await open(dirB, (k) => !allowedByB.has(hex(k)))
  const hostA = await nodeA.deploy(example('counter.js'), { name: 'counter' })
  const hostB = await nodeB.deploy(example('counter.js'), { name: 'counter' })
  const staleLength = hostB.log.length

  // w1 reaches only A, w2 only the stale copy B (and not w1: a serving w1 would hand w2 the fresh log)
  const w1 = await watcherOn(t, net, { freshness: { graceMs: 300 }, serve: false })
  const w2 = await watcherOn(t, net, { freshness: { graceMs: 300 }, serve: false })
  blockedByA.add(hex(w2.swarm!.keyPair.publicKey))
  allowedByB.add(hex(w2.swarm!.keyPair.publicKey))
  const reports: Array<{ who: string, r: StaleReport }> = []
  w1.on('stale', (r: StaleReport) => reports.push({ who: 'w1', r }))
  w2.on('stale', (r: StaleReport) => reports.push({ who: 'w2', r }))
  const cw1 = await w1.watch(hostA.key)
  const cw2 = await w2.watch(hostB.key)
  await cw2.until(staleLength, 30_000)
  t.ok(await until(() => w2.gossip.store.latest(hostB.key).some((a) => hex(a.watcher) === hex(w2.identity.publicKey) && a.length === staleLength)), 'w2 judged and attested the stale copy ok: replay alone cannot tell')

  // the real host keeps serving callers (who cannot reach the copy)
  const caller = await connect(t, net, hostA.key)
  for (let i = 0; i < 3; i++) await caller.increment()
  const fresh = hostA.log.length
  await cw1.until(fresh, 30_000)

  // a node that only relays gossip, connected to both hosts, carries w1's attestation towards w2
  const relay = createSwarm({ bootstrap: net.bootstrap })
  const relayGossip = new Gossip(new AttestationStore())
  t.teardown(async () => { relayGossip.close(); await relay.destroy() })
  allowedByB.add(hex(relay.keyPair.publicKey))
  relay.on('connection', (conn: SwarmConnection) => relayGossip.attach(conn))
  relay.join(discoveryKey(hostA.key), { server: false, client: true })

  t.ok(await until(() => reports.some((x) => x.who === 'w2')), 'w2 reports its log stale')
  const r = reports.find((x) => x.who === 'w2')!.r
  t.is(r.kind, 'stale')
  t.is(r.servedLength, staleLength, 'the length w2 can get')
  t.ok(r.known.length >= fresh - 1 && r.known.length > staleLength, `a longer root signed by the host: ${r.known.length} > ${staleLength}`)
  t.is(r.served?.length, staleLength, 'with the root the copy signed for w2')
  t.is(r.fork, 0)
  t.is(r.via, hex(w1.identity.publicKey), 'learnt from w1\'s attestation')
  t.ok(r.connected, 'w2 was connected to a host all along: this is a stale host, not a missing one')
  t.ok(w2.freshness.stale.has(hex(hostB.key)))
  t.is(cw2.verdict?.verdict, 'ok', 'staleness is not a replay fault')
  t.absent(reports.some((x) => x.who === 'w1'), 'w1, which follows the real host, is not stale')
  t.ok(w2.gossip.store.latest(hostB.key).every((a) => a.verdict === VERDICT_OK), 'and no one claimed a fault')
})

test('omitted call: the host drops an acknowledged call -> the client\'s receipt proves it (truncated, then rewritten), check accepts, the split view is gossiped', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('persistent-counter-fixed.js'), { name: 'pc' })
  const client = await connect(t, net, host.key)
  const other = await connect(t, net, host.key)
  await client.increment()
  await client.increment()
  const kept = client.lastReceipt!
  await client.increment()
  const dropped = client.lastReceipt!
  t.is(dropped.index, 3)
  t.is(dropped.root.length, 4)

  const before = await client.checkReceipt(dropped)
  t.ok(before.ok, before.message)
  t.is(before.fault, null)

  // the host drops its last call
  await host.log.core.truncate(3)
  const truncated = await client.checkReceipt(dropped)
  t.absent(truncated.ok)
  t.is(truncated.fault, 'truncated', truncated.message)
  t.is(truncated.current?.length, 3)
  t.is(truncated.current?.fork, 1)
  t.alike(truncated.receipt.root.length, 4, 'the receipt is in the result as evidence')
  t.ok(truncated.evidence, 'two host-signed roots of different forks')
  const dir = tmpdir(t)
  const file = path.join(dir, 'truncated.json')
  fs.writeFileSync(file, JSON.stringify(truncated.evidence))
  let checked = await cliRun(['check', file, '--json'])
  t.is(checked.code, 0, 'check accepts it offline: ' + checked.stdout)
  t.is(JSON.parse(checked.stdout).kind, 'fork')
  t.ok((await client.checkReceipt(kept)).ok, 'an earlier receipt whose prefix survived still checks')

  // ... and writes another call in its place
  const rewriter = identity()
  await host.call(signCall(rewriter, host.key, 1, 'increment', '[]'))
  await host.call(signCall(rewriter, host.key, 2, 'increment', '[]'))
  const rewritten = await client.checkReceipt(dropped)
  t.is(rewritten.fault, 'rewritten', rewritten.message)
  t.is(rewritten.evidence?.statements[1].length, 4, 'the host signed another log of the receipt\'s length')
  fs.writeFileSync(file, JSON.stringify(rewritten.evidence))
  checked = await cliRun(['check', file, '--json'])
  t.is(checked.code, 0, checked.stdout)
  t.ok((await client.checkReceipt(kept)).ok, 'the surviving prefix still checks')

  const forged = { ...dropped, root: { ...dropped.root, length: 9 } }
  await t.exception(client.checkReceipt(forged), /BAD_ARGUMENT/, 'a receipt whose signature does not verify proves nothing')

  // the two roots went into the client's attestation store: it signs the split view and gossips it
  t.ok(await until(() => other.attestations.faults(host.key).some((f) => f.verdict === VERDICT_EQUIVOCATION)), 'the other client got the split-view fault')
  await t.exception(other.increment(), /CONTRACT_FAULTY/)
})
