// Rehosting, as an attacker sees it: a serving watcher must never
// pass for a host, and a replica can withhold the newest root but never make
// a reader believe one the contract's signer did not sign. In-process nodes
// on a local testnet (the CLI paths are in rehost.test.ts).

import test from 'brittle'
import type { SwarmConnection } from 'hyperswarm'
import type { Testnet } from 'hyperdht/testnet.js'
import type { RootStatement } from '../protocol/index.js'
import { VmsClient } from '../src/client.js'
import { discoveryKey, keyPair, sign } from '../src/crypto.js'
import { formatKey } from '../src/keys.js'
import { openReplica, serveReplicas } from '../src/net/replica.js'
import { createSwarm } from '../src/net/swarm.js'
import { Watcher } from '../src/watch/watcher.js'
import { bootstrapArg, cliRun, connectClient, example, hostNode, identity, testnet, tmpdir, until } from './helpers.js'
import type { HostNode } from '../src/host/host-node.js'
import type { T } from './helpers.js'

test('a serving watcher never looks like a host: a client connected to it and to the host keeps only the host as a peer, and its calls run', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('rsvp.js'), { name: 'rsvp' })
  const watcher = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap })
  t.teardown(() => watcher.close())
  const cw = await watcher.watch(host.key)
  await cw.until(2, 30_000)
  const client = await connectClient(t, net, host.key)
  t.ok(await until(() => client.replicas.size > 0, 15_000), 'the client reached the watcher (a replica)')
  for (let i = 0; i < 3; i++) await client.RSVP(`guest-${i}`, true, 'x')
  const hostId = Buffer.from(node.swarm!.keyPair.publicKey).toString('hex')
  t.alike(client.peers.list.map((p) => p.id), [hostId], 'the only peer on the host RPC is the host')
  t.ok(client.hostOnline, 'host online')
})

test('a replica handing over a forged, longer root: the client drops it and reads at the honest replica\'s root (a watcher without storage, serving while it runs); verify drops it and audits ok', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('rsvp.js'), { name: 'rsvp' })
  const watcher = new Watcher({ bootstrap: net.bootstrap, rootInterval: 100 }) // no storage: a temporary folder, served while it runs
  t.teardown(() => watcher.close())
  const cw = await watcher.watch(host.key)
  const c = await connectClient(t, net, host.key)
  await c.RSVP('ann', true, 'x')
  await c.close()
  const final = host.log.length
  await cw.until(final, 30_000)
  t.ok(await until(() => cw.statements.some((s) => s.length === final)), 'the watcher keeps the host-signed root')
  await node.close()

  const me = keyPair()
  const body = { contract: host.key, length: 999, fork: 7, treeHash: Buffer.alloc(32, 7) }
  const forged: RootStatement = { ...body, signature: sign(Buffer.from('not the host'), me.secretKey) }
  const fake = await fakeReplica(t, net, host.key, () => forged)

  const client = await VmsClient.connect(host.key, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000 })
  t.teardown(() => client.close())
  await until(() => fake.connections > 0, 10_000)
  const f = await client.freshness()
  t.is(f.length, final, 'the newest root the reader believes is the host-signed one')
  t.is(client.info.length, final)
  t.ok(fake.dropped > 0, 'the forger\'s connection was dropped')
  const drive = await client.openFiles()
  t.ok(await drive.get('/rsvps/' + formatKey(c.identity.publicKey) + '.json'), 'state read at the honest root')

  const verify = await cliRun(['verify', formatKey(host.key), '--bootstrap', bootstrapArg(net), '--timeout', '10000', '--json'], { timeoutMs: 120_000 })
  t.is(verify.code, 0, verify.stderr)
  const out = JSON.parse(verify.stdout.trim().split('\n').pop()!)
  t.is(out.length, final, 'verify judged the honest root')
})

test('a replica replaying an older genuine root does not hold readers back: the newest host-signed root any replica holds wins', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('rsvp.js'), { name: 'rsvp' })
  const old = await host.root(0)
  const watcher = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap, rootInterval: 100 })
  t.teardown(() => watcher.close())
  const cw = await watcher.watch(host.key)
  const c = await connectClient(t, net, host.key)
  await c.RSVP('ann', true, 'x')
  await c.RSVP('bob', true, 'x')
  await c.close()
  const final = host.log.length
  await cw.until(final, 30_000)
  t.ok(await until(() => cw.statements.some((s) => s.length === final)))
  await node.close()
  const fake = await fakeReplica(t, net, host.key, () => old)

  const client = await VmsClient.connect(host.key, { bootstrap: net.bootstrap, identity: identity(), timeout: 15_000 })
  t.teardown(() => client.close())
  await until(() => fake.connections > 0 && client.replicas.size >= 2, 10_000)
  t.ok(old.length < final, `the stale replica replays length ${old.length}`)
  t.is((await client.freshness()).length, final, 'the reader takes the newest genuine root')
  t.is(fake.dropped, 0, 'a genuine (if old) root is no forgery: nobody is dropped for it')
})

test('the host returns with the same history: nothing changes, the watcher that served meanwhile keeps judging ok and clients call the host again', async (t) => {
  const net = await testnet(t)
  const storage = tmpdir(t)
  const open = async (): Promise<HostNode> => await hostNode(t, net, storage)
  const node = await open()
  const host = await node.deploy(example('persistent-counter-fixed.js'), { name: 'pc' })
  const watcher = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap, rootInterval: 100, lookup: { minMs: 200, maxMs: 1000 } })
  t.teardown(() => watcher.close())
  const cw = await watcher.watch(host.key)
  const caller = identity()
  const c1 = await VmsClient.connect(host.key, { bootstrap: net.bootstrap, identity: caller, timeout: 15_000 })
  await c1.increment()
  await c1.close()
  await cw.until(host.log.length, 30_000)
  await node.close()

  const offline = await VmsClient.connect(host.key, { bootstrap: net.bootstrap, identity: caller, timeout: 15_000 })
  t.teardown(() => offline.close())
  await t.exception(offline.call('increment'), /HOST_OFFLINE/, 'host away: HOST_OFFLINE')
  await offline.close()

  const back = await open()
  const again = await back.deploy(example('persistent-counter-fixed.js'), { name: 'pc' })
  const c2 = await VmsClient.connect(host.key, { bootstrap: net.bootstrap, identity: caller, timeout: 15_000 })
  t.teardown(() => c2.close())
  t.ok(c2.hostOnline, 'the host is online again')
  t.is(await c2.increment(), 2, 'calls run on the returned host, on the same state')
  const v = await cw.until(again.log.length, 30_000)
  t.is(v.verdict, 'ok', 'the watcher keeps judging ok')
  t.is(cw.faulted, null, 'no fault')
})

/** A peer announcing `contract` that serves no blocks and answers the replica channel with `root()`. */
async function fakeReplica (t: T, net: Testnet, contract: Uint8Array, root: () => RootStatement): Promise<{ connections: number, dropped: number }> {
  const counts = { connections: 0, dropped: 0 }
  const swarm = createSwarm({ bootstrap: net.bootstrap, firewalled: false })
  t.teardown(() => swarm.destroy())
  const source = { root }
  swarm.on('connection', (conn: SwarmConnection) => {
    counts.connections++
    conn.on('close', () => { counts.dropped++ })
    serveReplicas(conn, () => source)
    openReplica(conn, contract, source)
  })
  swarm.join(discoveryKey(Buffer.from(contract)), { server: true, client: false })
  await swarm.flush()
  return counts
}
