// Gossip is bounded and cannot lock anyone out: valid attestations within
// the rate limits, about made-up contracts or from thousands of fresh watcher
// keys, neither grow a node's store without bound nor make it send a new peer
// more than that peer accepts (it used to send its whole store at connect,
// the peer struck it for the rate and dropped it: CLOSED for every new
// client, and the saved store kept it so across restarts).

import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import c from 'compact-encoding'
import Protomux from 'protomux'
import Hypercore from 'hypercore'
import type { SwarmConnection } from 'hyperswarm'
import { signAttestation } from '../src/attest/attestation.js'
import { signerOf } from '../src/attest/signer.js'
import { AttestationStore } from '../src/attest/store.js'
import { createSwarm } from '../src/net/swarm.js'
import { discoveryKey, keyPair, randomBytes, sign } from '../src/crypto.js'
import { GOSSIP_PROTOCOL, VERDICT_FAULT, VERDICT_OK, gossipFrame, rootSignable, type Attestation } from '../protocol/index.js'
import type { ContractHost } from '../src/host/contract-host.js'
import type { HostNode } from '../src/host/host-node.js'
import type { KeyPair } from '../src/crypto.js'
import { example, hostNode, rawRpc, testnet, tmpdir } from './helpers.js'
import type { T } from './helpers.js'
import type { Testnet } from 'hyperdht/testnet.js'
import { connect, until } from './fault-helpers.js'

/** A valid attestation by `watcher` about `host`'s current root (`fault` makes it a fault claim). */
async function attestHost (host: ContractHost, watcher: KeyPair, fault = false): Promise<Attestation> {
  const root = await host.root()
  return signAttestation({
    contract: host.key, signer: signerOf(host.log.core)!, length: root.length, fork: root.fork, treeHash: root.treeHash, hostSignature: root.signature,
    filesVersion: 0, filesHash: Buffer.alloc(32), verdict: fault ? VERDICT_FAULT : VERDICT_OK, trusted: false,
    fault: fault ? { kind: 'result', index: 1, cause: 'host', message: 'made up', evidence: '{}' } : null,
    runtime: 'test', time: Date.now()
  }, watcher)
}

/** Valid attestations about a contract nobody hosts: its key is the hash of a manifest the attacker made. */
function madeUpContract (n: number): Attestation[] {
  const signerKp = keyPair()
  const signer = { version: 1, publicKey: signerKp.publicKey, namespace: randomBytes(32) }
  const contract = Hypercore.key({ version: 1, signers: [{ signature: 'ed25519', publicKey: signer.publicKey, namespace: signer.namespace }] })
  const root = { contract, length: 5, fork: 0, treeHash: randomBytes(32) }
  const hostSignature = sign(rootSignable(root), signerKp.secretKey)
  return Array.from({ length: n }, () => signAttestation({
    ...root, signer, hostSignature, filesVersion: 0, filesHash: Buffer.alloc(32), verdict: VERDICT_OK, trusted: false, fault: null, runtime: 'test', time: Date.now()
  }, keyPair()))
}

/** A raw gossip channel to the host of `key`, for sending attestations by hand. */
async function gossipTo (t: T, net: Testnet, key: Uint8Array): Promise<{ send (list: Attestation[]): void, closed: () => boolean }> {
  const swarm = createSwarm({ bootstrap: net.bootstrap })
  t.teardown(() => swarm.destroy())
  const conn = await new Promise<SwarmConnection>((resolve) => {
    swarm.once('connection', resolve)
    swarm.join(discoveryKey(key), { server: false, client: true })
  })
  let gone = false
  conn.once('close', () => { gone = true })
  const channel = Protomux.from(conn).createChannel({ protocol: GOSSIP_PROTOCOL, unique: true })!
  const msg = channel.addMessage({ encoding: c.raw })
  channel.open()
  await until(() => channel.opened)
  return {
    send (list) { for (let i = 0; i < list.length; i += 16) msg.send(c.encode(gossipFrame, { attestations: list.slice(i, i + 16) })) },
    closed: () => gone
  }
}

/** A fresh client connects, calls, and is not struck or dropped by what the host sends it. */
async function freshClientCalls (t: T & { ok (v: unknown, m?: string): void, is (a: unknown, b: unknown, m?: string): void }, net: Testnet, host: { key: Buffer }, label: string, expect: 'ok' | 'CONTRACT_FAULTY' = 'ok'): Promise<void> {
  const t0 = Date.now()
  const client = await connect(t, net, host.key)
  const outcome = async (): Promise<string> => {
    try {
      return typeof await client.call('increment') === 'number' ? 'ok' : 'not a number'
    } catch (err) {
      return (err as { code?: string }).code ?? String(err)
    }
  }
  const first = await outcome()
  const ms = Date.now() - t0
  await new Promise((resolve) => setTimeout(resolve, 1500)) // the catch-up arrives meanwhile
  const peer = client.gossip.peers[0]
  t.ok(peer && peer.strikes === 0, `${label}: a fresh client connected and called (${ms} ms) and never struck the host (received ${peer?.received})`)
  t.ok(peer && peer.received <= 256, `${label}: the catch-up was a bounded slice`)
  const second = await outcome()
  if (expect === 'ok') t.ok(first === 'ok' && second === 'ok', `${label}: it calls, and still a second later (${first}, ${second})`)
  // a fault claim stops a default client by its own policy (fault quorum 1); the host still answers it
  else t.is(second, expect, `${label}: the client's policy refuses the contract (${first}, ${second}), the connection is up`)
}

test('1,600 valid attestations within the rate limits (1,000 about a made-up contract, 600 from fresh watcher keys) -> a fresh client connects and calls, also after a restart with the saved store', async (t) => {
  const net = await testnet(t)
  const storage = tmpdir(t)
  const node = await hostNode(t, net, storage)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const fake = madeUpContract(1000)
  const fresh = await Promise.all(Array.from({ length: 600 }, () => attestHost(host, keyPair())))

  const attacker = await gossipTo(t, net, host.key)
  attacker.send(fake) // the whole burst
  await new Promise((resolve) => setTimeout(resolve, 3200)) // refilled at 200/s
  attacker.send(fresh)
  const received = (): number => node.gossip.peers.reduce((n, p) => n + p.received, 0)
  t.ok(await until(() => received() >= 1600), 'the host read all 1,600')
  t.absent(attacker.closed(), 'all valid and within the rate: the sender was not dropped')
  t.is(node.attestations.latest(fake[0].contract).length, 0, 'nothing kept about the made-up contract')
  t.is(node.attestations.latest(host.key).length, 600, 'the 600 fresh watchers about the hosted contract are kept')

  await freshClientCalls(t, net, host, 'after the flood')
  await node.close()
  const file = path.join(storage, 'attestations.json')
  t.ok(fs.statSync(file).size < 1024 * 1024, `the saved store is ${fs.statSync(file).size} bytes`)

  const again = await hostNode(t, net, storage)
  await again.deploy(example('counter.js'), { name: 'counter' })
  t.is(again.attestations.latest(host.key).length, 600, 'restarted with the saved store')
  await freshClientCalls(t, net, host, 'after the restart')
})

test('20,000 fault attestations from fresh watcher keys -> the store stays bounded (size, file, RSS) and root requests stay fast', async (t) => {
  const net = await testnet(t)
  const storage = tmpdir(t)
  const node: HostNode = await hostNode(t, net, storage)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const client = await connect(t, net, host.key)
  await client.call('increment')
  const channel = await rawRpc(t, net, host.key)
  const rootTimes = async (n: number): Promise<number[]> => {
    const out: number[] = []
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      await channel.root(10_000)
      out.push(performance.now() - t0)
    }
    return out.sort((a, b) => a - b)
  }
  const before = await rootTimes(50)

  const all = await Promise.all(Array.from({ length: 20_000 }, () => attestHost(host, keyPair(), true))) // the attacker's work, before the clock starts
  const rss0 = process.memoryUsage().rss
  let added = 0
  let rejected = 0
  const flood = (async () => {
    for (let batch = 0; batch < 40; batch++) {
      for (const a of all.slice(batch * 500, batch * 500 + 500)) {
        const res = node.attestations.add(a) // what gossip does with each attestation it reads
        if (!res.valid) rejected++
        added++
      }
      await new Promise((resolve) => setImmediate(resolve))
    }
  })()
  const during = await rootTimes(100)
  await flood
  node.attestations.flush()
  const rss = process.memoryUsage().rss - rss0
  t.is(added, 20_000)
  t.is(rejected, 0, 'every one was valid')
  t.ok(node.attestations.size <= 1000, `the store holds ${node.attestations.size} (at most maxWatchers = 1,000 watchers per contract)`)
  t.ok(node.attestations.faults(host.key).length <= 1000, 'faults bounded')
  const size = fs.statSync(path.join(storage, 'attestations.json')).size
  t.ok(size < 2 * 1024 * 1024, `attestations.json is ${(size / 1024).toFixed(0)} KiB (it was 15.9 MB)`)
  t.ok(rss < 150 * 1024 * 1024, `RSS grew ${(rss / 1048576).toFixed(0)} MB (bound 150; it was 257)`)
  const p90 = (s: number[]): number => s[Math.floor(s.length * 0.9)]
  t.comment(`root p90 before ${p90(before).toFixed(1)} ms, during the flood ${p90(during).toFixed(1)} ms`)
  t.ok(p90(during) < 100, `root p90 during the flood ${p90(during).toFixed(1)} ms (bound 100; it was 177)`)
  await freshClientCalls(t, net, host, 'after the fault flood', 'CONTRACT_FAULTY')
})

test('a node holding 10,000 honest attestations (10 contracts x 1,000 watchers) still accepts new peers, also after a restart', async (t) => {
  const net = await testnet(t)
  const storage = tmpdir(t)
  const node = await hostNode(t, net, storage)
  const hosts: ContractHost[] = []
  for (let i = 0; i < 10; i++) hosts.push(await node.deploy(example('counter.js'), { name: `counter${i}` }))
  for (const h of hosts) {
    const list = await Promise.all(Array.from({ length: 1000 }, () => attestHost(h, keyPair())))
    for (const a of list) node.attestations.add(a)
  }
  t.is(node.attestations.size, 10_000, 'the host holds 10,000 attestations')
  await freshClientCalls(t, net, hosts[0], 'with 10,000 held')
  await node.close()

  const again = await hostNode(t, net, storage)
  for (let i = 0; i < 10; i++) await again.deploy(example('counter.js'), { name: `counter${i}` })
  t.is(again.attestations.size, 10_000, 'the saved store came back whole')
  await freshClientCalls(t, net, hosts[3], 'after the restart')
})

test('faults per watcher key are capped (the newest kept); a store that names the contracts it wants ignores others unverified and drops them from its file', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const w = keyPair()
  const list: Attestation[] = []
  for (let i = 0; i < 20; i++) {
    const a = await attestHost(host, w, true)
    list.push({ ...a })
    node.attestations.add(a)
    await new Promise((resolve) => setTimeout(resolve, 2)) // distinct times, distinct ids
  }
  const kept = node.attestations.faults(host.key)
  t.is(kept.length, 4, 'one watcher key: at most 4 faults')
  t.ok(kept.every((a) => a.time >= list[15].time), 'the newest ones')

  const file = path.join(tmpdir(t), 'attestations.json')
  const open = new AttestationStore({ file })
  const fake = madeUpContract(3)
  for (const a of fake) open.add(a)
  open.add(await attestHost(host, keyPair()))
  open.flush()
  const reloaded = new AttestationStore({ file })
  t.is(reloaded.size, 4, 'a store that never named a contract keeps all (within caps)')
  reloaded.want(host.key)
  t.ok(reloaded.add(madeUpContract(1)[0]).ignored, 'once it names one, others are ignored')
  const forged = { ...fake[0], signature: Buffer.alloc(64) }
  t.ok(reloaded.add(forged).ignored, 'before any signature check')
  t.is(reloaded.recent(100).length, 1, 'and never sent to peers')
  reloaded.flush()
  t.is(new AttestationStore({ file }).size, 1, 'and they leave the file')
})
