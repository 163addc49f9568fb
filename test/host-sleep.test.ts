// Many contracts on one host node: past `maxOpenContracts` idle contracts are
// closed (sandbox, log and files sessions) and reopened by their next
// request. A sleeping contract stays announced, its log and files replicate
// to a peer that asks (without waking it), a watcher verifies it, calls after
// a wake continue its state, and a call request replayed after a sleep or a
// restart is still refused (the nonce table survives both).

import test from 'brittle'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import type { SwarmConnection } from 'hyperswarm'
import { VmsClient } from '../src/client.js'
import { NonceClock, signCall } from '../src/caller.js'
import type { ContractHost } from '../src/host/contract-host.js'
import { canonicalArgs } from '../src/json.js'
import { createSwarm } from '../src/net/swarm.js'
import { Watcher } from '../src/watch/watcher.js'
import type { CallRequest } from '../protocol/index.js'
import { hostNode, identity, testnet, tmpdir } from './helpers.js'

// in-memory state (rebuilt only by replay) and files
const SUM = `
let n = 0
exports.add = async (x) => { n += x; await System.files.writeFile('/sum', String(n)); return n }
`

const caller = identity()
const clock = new NonceClock()
const addReq = (h: ContractHost, x: number): CallRequest => signCall(caller, h.key, clock.next(), 'add', canonicalArgs([x]))
const add = async (h: ContractHost, x: number): Promise<number> => JSON.parse((await h.call(addReq(h, x))).outcome.result!)

test('host sleep: an idle contract closed past the open bound stays announced, replicates asleep, is called and verified again', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net, undefined, { maxOpenContracts: 2 })
  const hosts: ContractHost[] = []
  for (let i = 0; i < 4; i++) {
    const h = await node.deploy(SUM, { name: 'c' + i })
    hosts.push(h)
    t.is(await add(h, 5), 5)
  }
  const [h0, h1] = hosts as [ContractHost, ContractHost]
  t.is(node.openContracts.live, 2, 'two contracts open')
  t.ok(h0.sleeping && h1.sleeping, 'the least recently used ones sleep')
  t.is(h0.length, 2, 'a sleeping contract knows its log length (genesis + one call)')
  await new Promise((resolve) => setTimeout(resolve, 100)) // its sleep signs its last root
  const asleepRoot = await h0.root()
  t.is(asleepRoot.length, 2)
  t.ok(h0.sleeping, 'a root request does not wake it (watchers poll roots)')
  const swarm = node.swarm!
  const [logTopic, filesTopic] = node.topicsOf(h0.key)
  t.ok(logTopic && swarm.status(logTopic), 'its log topic stays joined')
  t.ok(filesTopic && swarm.status(filesTopic), 'its files topic stays joined')

  // a peer replicates the sleeping contract's log and files: the host's Corestore opens them on request
  const store = new Corestore(tmpdir(t))
  const peer = createSwarm({ bootstrap: net.bootstrap })
  t.teardown(async () => { await peer.destroy(); await store.close() })
  peer.on('connection', (conn: SwarmConnection) => store.replicate(conn))
  const core = store.get({ key: h0.key })
  await core.ready()
  const done = core.findingPeers()
  peer.join(core.discoveryKey!, { server: false, client: true })
  peer.flush().then(done, done)
  await core.update({ wait: true })
  t.is(core.length, 2, 'the replica has the whole log')
  t.ok(await core.get(1, { timeout: 10_000 }), 'and its call record')
  const drive = new Hyperdrive(store, Buffer.from(h0.genesis.files))
  await drive.ready()
  const files = drive.core.findingPeers()
  peer.join(drive.discoveryKey!, { server: false, client: true })
  peer.flush().then(files, files)
  await drive.core.update({ wait: true })
  t.is((await drive.get('/sum', { timeout: 10_000 }))?.toString(), '5', 'a stock Hyperdrive reads its files')
  t.ok(h0.sleeping, 'replication did not wake the contract')

  // a call through the swarm wakes it: state continues (rebuilt by replay), the receipt checks against the key
  const client = await VmsClient.connect(h0.key, { bootstrap: net.bootstrap, identity: caller, timeout: 15_000 })
  t.teardown(() => client.close())
  t.is(await client.call('add', 2), 7, 'the woken contract continues its in-memory state')
  t.is((await client.checkReceipt()).ok, true, 'the receipt checks against the contract key')
  t.absent(h0.sleeping, 'awake after the call')
  t.alike(await h0.root(2), asleepRoot, 'the root it answered asleep is the one it signs awake')

  // the other contracts' calls put it to sleep again; a watcher verifies it (its root requests wake it)
  for (const h of hosts.slice(1)) await add(h, 1)
  t.ok(h0.sleeping, 'asleep again')
  const watcher = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap, rootInterval: 50 })
  t.teardown(() => watcher.close())
  const cw = await watcher.watch(h0.key)
  const v = await cw.until(3, 30_000)
  t.is(v.verdict, 'ok', v.fault?.message)
  await watcher.close()
  for (const h of hosts.slice(1)) await add(h, 1)
  t.ok(h0.sleeping, 'asleep once the watcher left')
  t.is(await client.call('add', 3), 10, 'called again')
  const later = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap, rootInterval: 50 })
  t.teardown(() => later.close())
  t.is((await (await later.watch(h0.key)).until(4, 30_000)).verdict, 'ok', 'a cold watcher verifies the calls made across sleeps')
  t.ok(node.openContracts.live <= 2, `${node.openContracts.live} open`)
})

test('host sleep: a call request replayed after its contract slept, or after a restart that opened it unreplayed, is refused', async (t) => {
  const net = await testnet(t)
  const storage = tmpdir(t)
  const first = await hostNode(t, net, storage, { maxOpenContracts: 1 })
  const sent: CallRequest[] = []
  for (let i = 0; i < 3; i++) {
    const h = await first.deploy(SUM, { name: 'c' + i })
    const req = addReq(h, 4)
    sent.push(req)
    t.is(JSON.parse((await h.call(req)).outcome.result!), 4)
  }
  const h0 = first.contracts.get(Buffer.from(sent[0]!.contract).toString('hex'))!
  t.ok(h0.sleeping, 'c0 sleeps')
  await t.exception(h0.call(sent[0]!), /NONCE_REUSED/, 'replayed after a sleep: refused')
  await first.close()

  const second = await hostNode(t, net, storage, { maxOpenContracts: 1 })
  const again: ContractHost[] = []
  for (let i = 0; i < 3; i++) again.push(await second.deploy(SUM, { name: 'c' + i }))
  t.is(again[1]!.stats.replayedAtOpen, 0, 'past the bound a restart opens a contract without replaying it')
  for (let i = 0; i < 3; i++) {
    await t.exception(again[i]!.call(sent[i]!), /NONCE_REUSED/, `c${i}: replayed after the restart: refused`)
    t.is(await add(again[i]!, 1), 5, `c${i}: its state is rebuilt before its first call`)
  }
  t.is(again[0]!.methods.join(), 'add', 'methods known once replayed')
})
