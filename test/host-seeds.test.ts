// The seeds' contracts, hosted in-process and called over real Hyperswarm
// connections on a local DHT testnet; state read back with a stock Hyperdrive.

import test from 'brittle'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { createSwarm } from '../src/net/swarm.js'
import { formatKey } from '../src/keys.js'
import { connectClient, example, hostNode, identity, testnet, tmpdir } from './helpers.js'
import type { T } from './helpers.js'
import type { Testnet } from 'hyperdht/testnet.js'
import type { KeyPair } from '../src/crypto.js'

async function connect (t: T, net: Testnet, key: Uint8Array, id: KeyPair = identity()) {
  return await connectClient(t, net, key, { identity: id })
}

test('counter seed: in-memory counter increments over the swarm', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const client = await connect(t, net, host.key)
  t.alike(client.methods, ['increment'])
  t.is(await client.increment(), 1)
  t.is(await client.increment(), 2)
  t.is(await client.increment(), 3)
  t.is(host.log.length, 4, 'genesis + 3 call records')
  t.ok(client.lastReceipt && client.lastReceipt.index === 3 && client.lastReceipt.root.length === 4, 'receipt names the record and a signed root covering it')
})

test('persistent counter seed: as written it fails with ENOENT on the first call; the corrected copy counts', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const original = await node.deploy(example('persistent-counter.js'), { name: 'pc-original' })
  const fixed = await node.deploy(example('persistent-counter-fixed.js'), { name: 'pc-fixed' })

  const c1 = await connect(t, net, original.key)
  await t.exception(c1.increment(), /ENOENT/, 'readFile of the missing /counter throws, as the seed is written')
  t.is(original.log.length, 2, 'the failed call is still a logged call')

  const c2 = await connect(t, net, fixed.key)
  t.is(await c2.increment(), 1)
  t.is(await c2.increment(), 2)
  const drive = await c2.openFiles()
  t.is((await drive.get('/counter'))?.toString(), '2', '/counter holds the count as JSON text')
})

test('photo album seed: base64 photo written once, a second add of the name fails', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('photo-album.js'), { name: 'album' })
  const client = await connect(t, net, host.key)
  const photo = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 255])
  t.is(await client.addPhoto('cat.png', photo.toString('base64'), 'base64'), undefined)
  const err = await client.addPhoto('cat.png', 'AAAA', 'base64').then(() => null, (e: Error & { code: string }) => e)
  t.is(err?.code, 'CONTRACT_ERROR')
  t.ok(err?.message.includes('File already exists'))
  const drive = await client.openFiles()
  t.alike(await drive.get('/photos/cat.png'), photo, 'bytes read back with a stock Hyperdrive')
})

test('secure counter seed: init runs at deploy as the operator; only the operator may increment', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('secure-counter.js'), { name: 'secure' })
  t.is(host.log.length, 2, 'init was logged at deploy')
  const owner = await connect(t, net, host.key, node.identity)
  const stranger = await connect(t, net, host.key)
  t.is(await owner.increment(), 0)
  t.is(await owner.increment(), 1)
  await t.exception(stranger.increment(), /You are not my owner!/)
  await t.exception(stranger.init(), /I already have an owner!/)
  t.is(await owner.increment(), 2)
})

test('RSVP seed: two callers RSVP; a stock Hyperdrive opened by the files key reads /rsvps/*.json over the swarm', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('rsvp.js'), { name: 'rsvp' })
  const alice = identity()
  const bob = identity()
  const ca = await connect(t, net, host.key, alice)
  const cb = await connect(t, net, host.key, bob)
  await ca.RSVP('alice', true)
  await cb.RSVP('bob', false, 'Washing my hair, sorry!')

  // a reader that knows only the files key, with its own store and swarm
  const store = new Corestore(tmpdir(t))
  const swarm = createSwarm({ bootstrap: net.bootstrap })
  t.teardown(async () => { await swarm.destroy(); await store.close() })
  swarm.on('connection', (conn: unknown) => store.replicate(conn))
  const drive = new Hyperdrive(store, host.info().files)
  await drive.ready()
  swarm.join(drive.discoveryKey as Buffer, { server: false, client: true })
  const done = drive.findingPeers()
  swarm.flush().then(done, done)
  await drive.update({ wait: true })

  const names: string[] = []
  for await (const name of drive.readdir('/rsvps')) names.push(name)
  t.alike(names.sort(), [formatKey(alice.publicKey) + '.json', formatKey(bob.publicKey) + '.json'].sort())
  const rsvps = []
  for (const name of names) rsvps.push(JSON.parse((await drive.get('/rsvps/' + name))!.toString()))
  const byName = Object.fromEntries(rsvps.map((r) => [r.name, r]))
  t.alike(byName.alice, { id: formatKey(alice.publicKey), name: 'alice', isAttending: true })
  t.alike(byName.bob, { id: formatKey(bob.publicKey), name: 'bob', isAttending: false, reason: 'Washing my hair, sorry!' })
})

test('RSVP seed as first published (single quotes): every caller writes the same literal path', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('rsvp-original.js'), { name: 'rsvp-original' })
  const ca = await connect(t, net, host.key)
  const cb = await connect(t, net, host.key)
  await ca.RSVP(true)
  await cb.RSVP(false, 'busy')
  const drive = await cb.openFiles()
  const names: string[] = []
  for await (const name of drive.readdir('/rsvps')) names.push(name)
  t.alike(names, ['${System.caller.id}.json'], 'one file, named by the literal text: the bug the corrected rsvp.js fixes')
  t.is(JSON.parse((await drive.get('/rsvps/${System.caller.id}.json'))!.toString()).reason, 'busy', 'the last caller overwrote the first')
})

test('nondeterministic seed: Math.random is seeded from the call record, so the value is logged and repeatable', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('nondeterministic.js'), { name: 'random' })
  const client = await connect(t, net, host.key)
  const value = await client.default()
  t.is(typeof value, 'number')
  const drive = await client.openFiles()
  t.is(Number((await drive.get('/latest'))?.toString()), value, 'the unawaited writeFile landed with the call')
})
