// One node, many services: VmsNode owns the store, swarm, identity,
// attestations, gossip and the one connection handler; hosting, watching,
// the client and a seeder plug into it. Its state (attestations, watch
// positions) lives in a Hyperbee of its own Corestore.

import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import Corestore from 'corestore'
import { VmsNode, type ConnectionContext, type NodeService } from '../src/node/node.js'
import { NodeState } from '../src/node/node-state.js'
import { AttestationStore } from '../src/attest/store.js'
import { StateBee, StateFile, initialState } from '../src/watch/state.js'
import { HostNode } from '../src/host/host-node.js'
import { Watcher } from '../src/watch/watcher.js'
import { createSwarm } from '../src/net/swarm.js'
import { createSandbox, runtimeFingerprint } from '../src/runtime/sandbox.js'
import { testnet, tmpdir } from './helpers.js'
import { madeUpContract } from './attest-helpers.js'
import { until } from './fault-helpers.js'

test('constructors do no I/O: HostNode, Watcher and VmsNode create nothing before ready()', async (t) => {
  const root = tmpdir(t)
  const dirs = ['host', 'watcher', 'node'].map((d) => path.join(root, d))
  const host = new HostNode({ storage: dirs[0], sandboxFactory: createSandbox, runtime: runtimeFingerprint(), bootstrap: [] })
  const watcher = new Watcher({ storage: dirs[1], bootstrap: [] })
  const node = new VmsNode({ storage: dirs[2], bootstrap: [] })
  const temp = new Watcher({ bootstrap: [] })
  t.alike(fs.readdirSync(root), [], 'no folder, no identity, no node key, no store')
  t.absent(fs.existsSync(temp.storage), 'not even the temporary folder')
  t.is(node.swarm, null, 'no swarm')
  await host.close()
  await watcher.close()
  await node.close()
  await temp.close()
})

test('a peer that sends a frame protomux does not know is dropped by the node\'s one handler, whatever services run', async (t) => {
  const net = await testnet(t)
  const node = new VmsNode({ bootstrap: net.bootstrap, firewalled: false })
  t.teardown(() => node.close())
  const seen: ConnectionContext[] = []
  node.add({ name: 'probe', onconnection: (_conn, ctx) => { seen.push(ctx) } })
  await node.ready()
  const topic = Buffer.alloc(32, 7)
  node.join(topic, { server: true, client: false })
  await node.swarm!.flush()

  const attacker = createSwarm({ bootstrap: net.bootstrap })
  t.teardown(() => attacker.destroy())
  let closed = false
  attacker.on('connection', (conn) => {
    conn.on('close', () => { closed = true })
    conn.write(Buffer.from([0, 9, 1, 2, 3])) // channel 0, control message 9: no such thing
  })
  attacker.join(topic, { server: false, client: true })
  t.ok(await until(() => closed, 10_000), 'the connection was destroyed')
  t.is(seen.length, 1, 'the service saw the connection after the node\'s steps')
  t.ok(seen[0].guard.dropped?.startsWith('malformed frame'), `the guard dropped it: ${seen[0].guard.dropped}`)
  t.ok(await until(() => node.peers.size === 0, 5000), 'and it left the node\'s peers')
})

test('a seeding service (joins a topic as server, nothing else) serves replication of the node\'s store', async (t) => {
  const net = await testnet(t)
  const seeder = new VmsNode({ storage: tmpdir(t), bootstrap: net.bootstrap, firewalled: false })
  t.teardown(() => seeder.close())
  await seeder.ready()
  const core = seeder.store.get({ name: 'seeded' })
  await core.ready()
  await core.append(Buffer.from('hello'))
  const seed: NodeService = {
    name: 'seed',
    async open (node) {
      node.join(core.discoveryKey as Buffer, { server: true, client: false })
      await node.swarm!.flush()
    }
  }
  await seeder.use(seed) // added to an open node: opened at once

  const reader = new VmsNode({ storage: tmpdir(t), bootstrap: net.bootstrap })
  t.teardown(() => reader.close())
  await reader.ready()
  const copy = reader.store.get({ key: core.key as Buffer })
  await copy.ready()
  const done = copy.findingPeers()
  reader.join(copy.discoveryKey as Buffer, { server: false, client: true })
  reader.swarm!.flush().then(done, done)
  t.alike(await copy.get(0, { timeout: 10_000 }), Buffer.from('hello'), 'the block came from the seeder')
})

test('close: the swarm leaves first, then services in reverse order; a failing service does not keep the store open', async (t) => {
  const node = new VmsNode({ storage: tmpdir(t), bootstrap: [] })
  const order: string[] = []
  let swarmGone = false
  for (const name of ['a', 'b', 'c']) {
    node.add({
      name,
      open: () => { order.push('open ' + name) },
      close: () => {
        order.push(`close ${name}${swarmGone ? ' (swarm gone)' : ''}`)
        if (name === 'b') throw new Error('b failed')
      }
    })
  }
  await node.ready()
  const swarm = node.swarm!
  const destroy = swarm.destroy.bind(swarm)
  swarm.destroy = async (opts) => { await destroy(opts); swarmGone = true }
  await t.exception(node.close(), /b failed/, 'the first error is thrown')
  t.alike(order, ['open a', 'open b', 'open c', 'close c (swarm gone)', 'close b (swarm gone)', 'close a (swarm gone)'])
  t.ok(node.state.closed, 'the state bee closed anyway')
})

test('attestations: an old attestations.json is read once into the state bee (then renamed); a restart keeps them', async (t) => {
  const storage = tmpdir(t)
  const file = path.join(storage, 'attestations.json')
  const old = new AttestationStore({ file })
  for (const a of madeUpContract(3)) old.add(a)
  old.flush()

  const first = new VmsNode({ storage, network: false })
  await first.ready()
  t.is(first.attestations.size, 3, 'migrated')
  t.absent(fs.existsSync(file), 'the file is gone')
  t.ok(fs.existsSync(file + '.migrated'), 'renamed, not deleted')
  for (const a of madeUpContract(2)) first.attestations.add(a)
  await first.close()

  const again = new VmsNode({ storage, network: false })
  await again.ready()
  t.is(again.attestations.size, 5, 'all five came back from the state bee')
  await again.close()
})

test('watch positions: an old watch/<contract>.json is read once, then kept in the state bee; puts and deletes land in one batch', async (t) => {
  const dir = tmpdir(t)
  const store = new Corestore(tmpdir(t))
  const state = new NodeState(store)
  t.teardown(async () => { await state.close(); await store.close() })
  const hex = 'ab'.repeat(32)
  const legacy = { ...initialState(hex), audited: 42, judgedTotal: 41 }
  new StateFile(dir, hex).save(legacy)

  const bee = new StateBee(state, hex, dir)
  t.is((await bee.load())?.audited, 42, 'read from the old file')
  await bee.save({ ...legacy, audited: 43 })
  t.absent(fs.existsSync(path.join(dir, hex + '.json')), 'the old file is removed once the bee holds the state')
  t.is((await new StateBee(state, hex).load())?.audited, 43, 'the bee holds it')

  await state.write([['x/1', Buffer.from('1')], ['x/2', Buffer.from('2')]])
  await state.write([['x/3', Buffer.from('3')]], ['x/1'])
  t.alike((await state.list('x')).map((e) => e.key), ['x/2', 'x/3'])
})
