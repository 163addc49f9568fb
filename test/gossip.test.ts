// Attestation gossip between real swarm peers, split-view evidence, the
// offline `check` command, and the client's quorum policy. Attestations here
// are signed directly from the host's real root statements (the watcher
// itself is tested elsewhere): gossip carries and checks signatures, it does
// not judge.

import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import c from 'compact-encoding'
import Protomux from 'protomux'
import type { SwarmConnection } from 'hyperswarm'
import { attestationOver, signAttestation } from '../src/attest/attestation.js'
import { signerOf } from '../src/attest/signer.js'
import { checkEvidence } from '../src/attest/evidence.js'
import { createSwarm } from '../src/net/swarm.js'
import { discoveryKey, keyPair, sign } from '../src/crypto.js'
import { GOSSIP_PROTOCOL, gossipFrame, rootSignable, type Attestation, type RootStatement } from '../protocol/index.js'
import type { ContractHost } from '../src/host/contract-host.js'
import type { KeyPair } from '../src/crypto.js'
import { cliRun, connectClient, example, hostNode, testnet, tmpdir, until } from './helpers.js'

async function okAttestation (host: ContractHost, watcher: KeyPair, length = host.log.length, fault: Attestation['fault'] = null): Promise<Attestation> {
  const drive = host.log.drive!
  const files = { filesVersion: drive.version, filesHash: await drive.core.treeHash(drive.version) }
  return signAttestation(attestationOver(await host.root(length), signerOf(host.log.core)!, { fault, ...files, runtime: 'test' }), watcher)
}

const client = connectClient

test('gossip: an attestation published by one client reaches the host and every other client; late joiners catch up', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const a = await client(t, net, host.key)
  const b = await client(t, net, host.key)
  await a.increment()
  const watchers = [keyPair(), keyPair(), keyPair()]
  for (const w of watchers) t.ok(a.gossip.publish(await okAttestation(host, w)), 'valid attestation published')
  t.ok(await until(() => b.attestations.latest(host.key).length === 3), 'the other client got all three (forwarded by the host)')
  t.is(node.attestations.latest(host.key).length, 3, 'the host keeps them too')

  const late = await client(t, net, host.key)
  t.ok(await until(() => late.attestations.latest(host.key).length === 3), 'a node that joins later catches up')
})

test('gossip: a replayed old attestation is not forwarded; forged ones are dropped and the sender is cut off', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const a = await client(t, net, host.key)
  const b = await client(t, net, host.key)
  const w = keyPair()
  await a.increment()
  const old = await okAttestation(host, w)
  await a.increment()
  const fresh = await okAttestation(host, w)
  a.gossip.publish(fresh)
  t.ok(await until(() => b.attestations.latest(host.key)[0]?.length === fresh.length))
  t.is(node.attestations.add(old).fresh, false, 'an older attestation of the same watcher changes nothing')
  t.is(b.attestations.latest(host.key)[0].length, fresh.length, 'replayed old attestation did not replace the latest')

  // a raw peer that sends forged attestations over the gossip channel
  const swarm = createSwarm({ bootstrap: net.bootstrap })
  t.teardown(() => swarm.destroy())
  const conn = await new Promise<SwarmConnection>((resolve) => {
    swarm.once('connection', resolve)
    swarm.join(discoveryKey(host.key), { server: false, client: true })
  })
  const closed = new Promise((resolve) => conn.once('close', resolve))
  const mux = Protomux.from(conn)
  const channel = mux.createChannel({ protocol: GOSSIP_PROTOCOL, unique: true })!
  const msg = channel.addMessage({ encoding: c.raw })
  channel.open()
  await until(() => channel.opened)
  const forged = { ...fresh, length: fresh.length + 100 } // signature no longer matches
  const strikes: string[] = []
  node.gossip.on('strike', (_p: unknown, reason: string) => strikes.push(reason))
  for (let i = 0; i < 3; i++) msg.send(c.encode(gossipFrame, { attestations: [{ ...forged, time: forged.time + i }] }))
  await closed
  t.alike(strikes, ['invalid attestation', 'invalid attestation', 'invalid attestation'], 'each forgery is a strike')
  t.pass('the host dropped the forging peer after three strikes')
  t.is(b.attestations.latest(host.key)[0].length, fresh.length, 'nothing forged reached the other peers')
  t.is(await a.increment(), 3, 'honest peers are unaffected')
})

test('gossip: a flood from one peer is cut off by the rate limit', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const swarm = createSwarm({ bootstrap: net.bootstrap })
  t.teardown(() => swarm.destroy())
  const conn = await new Promise<SwarmConnection>((resolve) => {
    swarm.once('connection', resolve)
    swarm.join(discoveryKey(host.key), { server: false, client: true })
  })
  const closed = new Promise((resolve) => conn.once('close', resolve))
  const channel = Protomux.from(conn).createChannel({ protocol: GOSSIP_PROTOCOL, unique: true })!
  const msg = channel.addMessage({ encoding: c.raw })
  channel.open()
  await until(() => channel.opened)
  const att = await okAttestation(host, keyPair())
  const frame = c.encode(gossipFrame, { attestations: Array.from({ length: 16 }, () => att) })
  for (let i = 0; i < 400; i++) msg.send(frame) // 6,400 attestations at once, burst is 1,000
  await closed
  t.pass('the flooding connection was dropped')
  t.ok(node.gossip.peers.every((p) => !p.publicKey.equals(conn.publicKey)), 'no gossip link to the flooder is left')
  const other = await client(t, net, host.key)
  t.is(await other.increment(), 1, 'the host keeps serving others')
})

function conflicting (host: ContractHost, length: number, fork: number): RootStatement {
  const body = { contract: host.key, length, fork, treeHash: Buffer.alloc(32, 0xee) }
  return { ...body, signature: sign(rootSignable(body), host.log.core.keyPair!.secretKey!) }
}

test('split view: two signed roots of one length are detected, gossiped as a fault and checkable offline; forged evidence is not', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const a = await client(t, net, host.key)
  const b = await client(t, net, host.key)
  const careful = await client(t, net, host.key, { faultQuorum: 5 })
  await a.increment()
  const honest = await host.root()
  // the host signs a second, different log of the same length (what a host serving two stores does)
  const other = conflicting(host, honest.length, honest.fork)
  const signer = signerOf(host.log.core)!
  t.absent(a.attestations.addStatement(honest, signer), 'one statement alone is no fault')
  const sv = a.attestations.addStatement(other, signer)
  t.ok(sv, 'the second statement reveals the split view')
  t.is(sv!.evidence.type, 'equivocation')
  t.ok(checkEvidence(sv!.evidence).valid, 'the evidence checks')

  const dir = tmpdir(t)
  const good = path.join(dir, 'evidence.json')
  fs.writeFileSync(good, JSON.stringify(sv!.evidence))
  const ok = await cliRun(['check', good])
  t.is(ok.code, 0, ok.stdout)
  t.ok(ok.stdout.startsWith('VALID'))

  const same = { ...sv!.evidence, statements: [sv!.evidence.statements[0], sv!.evidence.statements[0]] }
  const bad = path.join(dir, 'forged.json')
  fs.writeFileSync(bad, JSON.stringify(same))
  const no = await cliRun(['check', bad, '--json'])
  t.is(no.code, 1)
  t.is(JSON.parse(no.stdout).valid, false, 'the same statement twice is not evidence')
  const tampered = { ...sv!.evidence, statements: [sv!.evidence.statements[0], { ...sv!.evidence.statements[1], treeHash: 'ab'.repeat(32) }] }
  t.absent(checkEvidence(tampered).valid, 'a statement with a changed tree hash fails its signature')
  t.absent(checkEvidence({ ...sv!.evidence, signer: { ...sv!.evidence.signer, publicKey: Buffer.from(keyPair().publicKey).toString('hex') } }).valid, 'a signer that is not the contract\'s fails')

  // a watcher turns it into an equivocation attestation; every peer refuses the contract afterwards
  const w = keyPair()
  const fault = signAttestation({
    contract: host.key,
    signer,
    length: other.length,
    fork: other.fork,
    treeHash: other.treeHash,
    hostSignature: other.signature,
    filesVersion: 0,
    filesHash: Buffer.alloc(32),
    verdict: 2,
    trusted: false,
    fault: { kind: 'equivocation', index: other.length, cause: 'host', message: 'two logs', evidence: JSON.stringify(sv!.evidence) },
    runtime: 'test',
    time: Date.now()
  }, w)
  t.ok(a.gossip.publish(fault))
  t.ok(await until(() => b.attestations.faults(host.key).length === 1), 'the fault reached the other client')
  await t.exception(b.increment(), /CONTRACT_FAULTY/, 'a client refuses a contract with a verified fault')
  t.ok(await until(() => careful.attestations.faults(host.key).length === 1))
  await t.exception(careful.increment(), /CONTRACT_FAULTY: watcher [0-9a-f]{16} proved an equivocation fault/, 'checked evidence refuses the contract whatever the fault quorum')

  const forgedFault = signAttestation({ ...fault, fault: { ...fault.fault!, evidence: JSON.stringify(same) } }, w)
  t.absent(a.attestations.add(forgedFault).valid, 'an equivocation attestation with forged evidence is rejected')
})

test('quorum: a call returns only after k watchers attested its log length; too few watchers times out clearly', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const publisher = await client(t, net, host.key)
  const q2 = await client(t, net, host.key, { quorum: 2, quorumTimeout: 20_000 })
  const watchers = [keyPair(), keyPair()]
  host.on('call', async ({ index }: { index: number }) => {
    for (const w of watchers) publisher.gossip.publish(await okAttestation(host, w, index + 1))
  })
  const start = Date.now()
  t.is(await q2.increment(), 1, 'returned after two watchers attested')
  t.ok(Date.now() - start < 20_000)
  t.ok(q2.attestations.latest(host.key).filter((a) => a.length >= q2.lastReceipt!.root.length).length >= 2)

  const q3 = await client(t, net, host.key, { quorum: 3, quorumTimeout: 1500 })
  await t.exception(q3.increment(), /QUORUM_TIMEOUT: 2 of 3 watchers/, 'with only two watchers, a quorum of three times out')
})

test('fault quorum: a replay fault from one watcher key stops default clients; a client asking for two watchers keeps calling until a second one reports', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const trusting = await client(t, net, host.key)
  const careful = await client(t, net, host.key, { faultQuorum: 2 })
  t.is(await trusting.increment(), 1)
  const fault = (w: KeyPair): Promise<Attestation> => okAttestation(host, w, host.log.length, { kind: 'result', index: 1, cause: 'host', message: 'the replay returned 0, the host 1', evidence: '{}' })
  const liar = keyPair()
  trusting.gossip.publish(await fault(liar))
  trusting.gossip.publish(await fault(liar)) // the same watcher again (a newer attestation) still counts once
  await until(() => careful.attestations.faults(host.key).length >= 1, 10_000)
  await t.exception(trusting.increment(), /CONTRACT_FAULTY: watcher [0-9a-f]{16} reported a result fault at block 1/, 'one watcher is enough for a default client')
  t.is(await careful.increment(), 2, 'a client asking for two watchers still calls')
  careful.gossip.publish(await fault(keyPair()))
  await t.exception(careful.increment(), /CONTRACT_FAULTY: .* and 1 other watchers reported/, 'two distinct watchers are enough')
})
