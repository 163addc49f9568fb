// Public hosting: contracts others deploy onto a node, in-process
// nodes on a local testnet, real swarm connections, real stores on disk.

import test from 'brittle'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import c from 'compact-encoding'
import ProtomuxRPC from 'protomux-rpc'
import { HostNode, type HostNodeOptions } from '../src/host/host-node.js'
import { createSandbox, runtimeFingerprint } from '../src/runtime/sandbox.js'
import { createSwarm } from '../src/net/swarm.js'
import { NodeClient } from '../src/deploy-client.js'
import { VmsClient } from '../src/client.js'
import { VmsError } from '../src/errors.js'
import { sign } from '../src/crypto.js'
import { formatKey } from '../src/keys.js'
import { NODE_PROTOCOL, deployPrepared, deployRequest, deploySignable, undeployRequest, type DeployRequest } from '../protocol/index.js'
import { decodeRegistryBlock, deployRequestHash } from '../src/host/registry-log.js'
import { namespaceOf } from '../src/host/deploy-service.js'
import { DeployPolicy } from '../src/host/deploy-policy.js'
import { connectClient, example, identity, testnet, tmpdir, until } from './helpers.js'
import { Watcher } from '../src/watch/watcher.js'
import type { T } from './helpers.js'
import type { Testnet } from 'hyperdht/testnet.js'
import type { KeyPair } from '../src/crypto.js'
import type { SwarmConnection } from 'hyperswarm'

async function publicNode (t: T, net: Testnet, storage: string, deploys: HostNodeOptions['deploys'] = { acceptDeploys: true }): Promise<HostNode> {
  const node = new HostNode({ storage, sandboxFactory: createSandbox, runtime: runtimeFingerprint(), bootstrap: net.bootstrap, deploys })
  t.teardown(() => node.close())
  await node.ready()
  await node.listening
  return node
}

async function nodeClient (t: T, net: Testnet, node: HostNode, id: KeyPair, timeout = 15_000): Promise<NodeClient> {
  const client = await NodeClient.connect(node.swarm!.keyPair.publicKey, { bootstrap: net.bootstrap, identity: id, timeout })
  t.teardown(() => client.close())
  return client
}

async function code (p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'ok'
  } catch (err) {
    return VmsError.from(err).code
  }
}

test('public hosting: two deployers, owner is the deployer, registry-checked listing, undeploy rights, restart', async (t) => {
  const net = await testnet(t)
  const storage = tmpdir(t)
  let node = await publicNode(t, net, storage, { acceptDeploys: true, maxPerDeployer: 1 })
  const alice = identity()
  const bob = identity()
  const na = await nodeClient(t, net, node, alice)
  const nb = await nodeClient(t, net, node, bob)

  const counter = await na.deploy(example('secure-counter.js'), { name: 'secure-counter' })
  const rsvp = await nb.deploy(example('rsvp.js'), { name: 'rsvp' })
  t.is(node.contracts.size, 2)

  // the genesis names the deployer and the deploy request's hash
  const genesis = node.contracts.get(counter.contract.toString('hex'))!.genesis
  t.alike(Buffer.from(genesis.deployer), alice.publicKey, 'genesis deployer is alice')
  t.alike(Buffer.from(genesis.deployRequest!), counter.request, 'genesis names the deploy request hash')
  const ca = await connectClient(t, net, counter.contract, { identity: alice })
  t.is(await ca.increment(), 0, 'alice (the deployer) owns the secure counter')
  const cb = await connectClient(t, net, counter.contract, { identity: bob })
  t.is(await code(cb.increment()), 'CONTRACT_ERROR', 'bob is not the owner')

  const listing = await na.contracts()
  t.is(listing.contracts.length, 2, 'contracts lists both')
  const byName = new Map(listing.contracts.map((l) => [l.name, l]))
  t.alike(Buffer.from(byName.get('secure-counter')!.deployer), alice.publicKey)
  t.alike(Buffer.from(byName.get('rsvp')!.deployer), bob.publicKey)
  t.ok(byName.get('rsvp')!.deployed)

  t.is(await code(na.deploy(example('counter.js'), { name: 'more' })), 'DEPLOY_QUOTA', 'a quota is refused cleanly')
  t.is(node.contracts.size, 2, 'nothing was added')

  t.is(await code(na.undeploy(rsvp.contract)), 'NOT_DEPLOYER', "a non-deployer's undeploy is refused")
  await nb.undeploy(rsvp.contract)
  t.is(node.contracts.size, 1, 'the node stopped serving rsvp')
  t.is((await na.contracts()).contracts.length, 1)

  // restart: the rest comes back
  await na.close()
  await nb.close()
  await node.close()
  node = await publicNode(t, net, storage, { acceptDeploys: true })
  t.is(node.contracts.size, 1, 'the restarted node reopened the deployed contract')
  const again = await connectClient(t, net, counter.contract, { identity: alice })
  t.is(await again.increment(), 1, 'state and owner survived the restart')
  const nc = await nodeClient(t, net, node, bob)
  t.is((await nc.contracts()).registry.length, 3, 'registry: two deploys and one undeploy')
})

test('public hosting: an init that throws fails the deploy and leaves nothing', async (t) => {
  const net = await testnet(t)
  const node = await publicNode(t, net, tmpdir(t))
  const na = await nodeClient(t, net, node, identity())
  t.is(await code(na.deploy('exports.init = () => { throw new Error("no") }', { name: 'bad' })), 'CONTRACT_INIT')
  t.is(node.contracts.size, 0)
  t.is(node.deployService!.registry.length, 0, 'nothing in the registry')
})

test('public hosting: policy — allowlist, limits above the maxima, closed node', async (t) => {
  const net = await testnet(t)
  const alice = identity()
  const node = await publicNode(t, net, tmpdir(t), { acceptDeploys: true, deployers: [alice.publicKey], maxLimits: { timeoutMs: 1000 } })
  const na = await nodeClient(t, net, node, alice)
  const nb = await nodeClient(t, net, node, identity())
  t.is(await code(nb.deploy(example('counter.js'))), 'DEPLOY_REFUSED', 'not on the allowlist')
  t.is(await code(na.deploy(example('counter.js'), { limits: { timeoutMs: 5000 } })), 'LIMITS_TOO_HIGH')
  // the library entry point: VmsClient.deploy
  const ok = await VmsClient.deploy(example('counter.js'), { to: node.swarm!.keyPair.publicKey, bootstrap: net.bootstrap, identity: alice, limits: { timeoutMs: 500 } })
  t.is(node.contracts.get(ok.contract.toString('hex'))!.genesis.limits.timeoutMs, 500)

  const closed = await publicNode(t, net, tmpdir(t), {})
  const nc = await nodeClient(t, net, closed, alice)
  t.is(await code(nc.deploy(example('counter.js'))), 'DEPLOY_REFUSED', 'a node without --accept-deploys refuses')
})

/** A raw node channel to `node`, to send forged requests. */
async function rawNodeRpc (t: T, net: Testnet, node: HostNode): Promise<ProtomuxRPC> {
  const swarm = createSwarm({ bootstrap: net.bootstrap })
  t.teardown(() => swarm.destroy())
  const nodeKey = node.swarm!.keyPair.publicKey
  const conn = await new Promise<SwarmConnection>((resolve) => {
    swarm.on('connection', (conn: SwarmConnection) => resolve(conn))
    swarm.joinPeer(nodeKey)
  })
  return new ProtomuxRPC(conn, { id: nodeKey, protocol: NODE_PROTOCOL })
}

async function prepare (rpc: ProtomuxRPC, req: DeployRequest): Promise<string> {
  try {
    await rpc.request('prepare', c.encode(deployRequest, req), { requestEncoding: c.raw, responseEncoding: deployPrepared, timeout: 15_000 })
    return 'ok'
  } catch (err) {
    const e = err as { cause?: { code?: string } }
    return e.cause?.code ?? String(err)
  }
}

test('attack: forged deploys (bad signature, replayed request, another node key) are refused', async (t) => {
  const net = await testnet(t)
  const node = await publicNode(t, net, tmpdir(t))
  const rpc = await rawNodeRpc(t, net, node)
  const mallory = identity()
  const alice = identity()
  const body = { node: node.swarm!.keyPair.publicKey, deployer: alice.publicKey, nonce: 5, name: 'c', source: example('counter.js'), oracles: false, limits: [] }
  const good: DeployRequest = { ...body, signature: sign(deploySignable(body), alice.secretKey) }

  t.is(await prepare(rpc, { ...good, signature: sign(deploySignable(body), mallory.secretKey) }), 'BAD_SIGNATURE', 'signed by someone else than the named deployer')
  t.is(await prepare(rpc, { ...good, name: 'other' }), 'BAD_SIGNATURE', 'a field changed after signing')
  const elsewhere = { ...body, node: identity().publicKey }
  t.is(await prepare(rpc, { ...elsewhere, signature: sign(deploySignable(elsewhere), alice.secretKey) }), 'WRONG_NODE', 'a request for another node key')
  // a call signature is no deploy signature (domain tags)
  t.is(await prepare(rpc, { ...good, signature: sign(Buffer.from('vms/call/v1'), alice.secretKey) }), 'BAD_SIGNATURE')

  // the real deploy, then its replay
  const na = await nodeClient(t, net, node, alice)
  const first = await na.deploy(example('counter.js'), { name: 'c' })
  const entry = node.deployService!.deployed(first.contract)!
  t.alike(deployRequestHash(entry.request), first.request)
  t.is(await prepare(rpc, entry.request), 'NONCE_REUSED', 'a replayed deploy request is refused')
  t.is(node.contracts.size, 1)
  t.comment(`contract ${formatKey(first.contract)}`)
})

test('public hosting: a stock Hyperdrive reads a deployed contract\'s files', async (t) => {
  const net = await testnet(t)
  const node = await publicNode(t, net, tmpdir(t))
  const bob = identity()
  const nb = await nodeClient(t, net, node, bob)
  const rsvp = await nb.deploy(example('rsvp.js'), { name: 'rsvp' })
  const client = await connectClient(t, net, rsvp.contract, { identity: bob })
  await client.RSVP('bob', true)
  const store = new Corestore(tmpdir(t))
  const swarm = createSwarm({ bootstrap: net.bootstrap })
  t.teardown(async () => { await swarm.destroy(); await store.close() })
  swarm.on('connection', (conn: unknown) => store.replicate(conn))
  const drive = new Hyperdrive(store, rsvp.files)
  await drive.ready()
  swarm.join(drive.discoveryKey as Buffer, { server: false, client: true })
  const done = drive.findingPeers()
  swarm.flush().then(done, done)
  await drive.update({ wait: true })
  const names: string[] = []
  for await (const name of drive.readdir('/rsvps')) names.push(name)
  t.alike(names, [formatKey(bob.publicKey) + '.json'])
})

test('public hosting: per-contract storage cap and deploy rate limit', async (t) => {
  const net = await testnet(t)
  const node = await publicNode(t, net, tmpdir(t), { acceptDeploys: true, maxStorageBytes: 4096, rate: { count: 2, perMs: 60_000 } })
  const alice = identity()
  const na = await nodeClient(t, net, node, alice)
  const big = 'exports.put = async (n) => { await System.files.writeFile("/f" + n, "x".repeat(3000)) }'
  const d = await na.deploy(big, { name: 'big' })
  const client = await connectClient(t, net, d.contract, { identity: alice })
  await client.put(1)
  await client.put(2)
  t.is(await code(client.put(3)), 'STORAGE_QUOTA', 'calls past the storage cap are refused')
  const host = node.contracts.get(d.contract.toString('hex'))!
  const length = host.log.length
  t.is(await code(client.put(4)), 'STORAGE_QUOTA')
  t.is(host.log.length, length, 'nothing logged past the cap')
  await na.deploy(example('counter.js'), { name: 'two' })
  t.is(await code(na.deploy(example('counter.js'), { name: 'three' })), 'DEPLOY_RATE', 'the third deploy in a minute is refused')
})

test('attack: a node that lies in its listing is caught against its registry log', async (t) => {
  const net = await testnet(t)
  const node = await publicNode(t, net, tmpdir(t))
  const alice = identity()
  const na = await nodeClient(t, net, node, alice, 3000)
  const a = await na.deploy(example('counter.js'), { name: 'a' })
  await na.deploy(example('rsvp.js'), { name: 'b' })
  const service = node.deployService!
  const real = service.listing.bind(service)
  service.listing = (op) => { const l = real(op); return { ...l, contracts: l.contracts.filter((c) => !Buffer.from(c.contract).equals(a.contract)) } }
  t.is(await code(na.contracts()), 'REGISTRY_MISMATCH', 'hiding a deployed contract')
  const mallory = identity()
  service.listing = (op) => { const l = real(op); return { ...l, contracts: l.contracts.map((c) => ({ ...c, deployer: mallory.publicKey })) } }
  t.is(await code(na.contracts()), 'REGISTRY_MISMATCH', 'naming another deployer')
  service.listing = (op) => { const l = real(op); return { ...l, contracts: [...l.contracts, { ...l.contracts[0]!, contract: identity().publicKey }] } }
  t.is(await code(na.contracts()), 'REGISTRY_MISMATCH', 'listing a contract nobody deployed')
  service.listing = (op) => ({ ...real(op), registryLength: 5 })
  t.is(await code(na.contracts()), 'REGISTRY_MISMATCH', 'claiming registry blocks it cannot serve')
  service.listing = (op) => { const l = real(op); return { registryLength: l.registryLength - 1, contracts: l.contracts.slice(0, 1) } }
  t.is(await code(na.contracts()), 'REGISTRY_MISMATCH', 'a consistent but stale listing (the registry signed since)')
  service.listing = real
  t.is((await na.contracts()).contracts.length, 2, 'the honest listing checks')
})

test('attack: a replayed undeploy is refused; the operator (node key) may undeploy and delete', async (t) => {
  const net = await testnet(t)
  const node = await publicNode(t, net, tmpdir(t))
  const alice = identity()
  const na = await nodeClient(t, net, node, alice)
  const a = await na.deploy(example('counter.js'), { name: 'a' })
  const b = await na.deploy(example('rsvp.js'), { name: 'b' })
  await na.undeploy(a.contract)
  const core = node.deployService!.registry.core
  const undeploy = decodeRegistryBlock((await core.get(core.length - 1))!, core.length - 1)
  t.is(undeploy.type, 'undeploy')
  const rpc = await rawNodeRpc(t, net, node)
  const replay = await rpc.request('undeploy', c.encode(undeployRequest, (undeploy as any).request), { requestEncoding: c.raw, responseEncoding: c.none, timeout: 15_000 }).then(() => 'ok', (err: any) => err.cause?.code)
  t.is(replay, 'NONCE_REUSED', 'the same signed undeploy again is refused')

  const operator = await nodeClient(t, net, node, node.swarm!.keyPair)
  await operator.undeploy(b.contract, { delete: true })
  t.is(node.contracts.size, 0, 'the operator undeployed a contract it did not deploy')
  const gone = node.store.namespace(namespaceOf(b.request)).get({ name: 'call-log' })
  await gone.ready()
  t.ok(gone.length > 0 && !(await gone.has(0)), '--delete removed its log blocks from the node')
  await gone.close()
  t.is((await na.contracts()).registry.length, 4)
  const host = await node.deploy(example('counter.js'), { name: 'probe' }) // the node still serves
  t.ok(host.key)
})

test('public hosting: a watcher follows a deployed contract like any other, and the host keeps its ok attestations', async (t) => {
  const net = await testnet(t)
  const node = await publicNode(t, net, tmpdir(t))
  const bob = identity()
  const nb = await nodeClient(t, net, node, bob)
  const d = await nb.deploy(example('rsvp.js'), { name: 'rsvp' })
  const w = new Watcher({ storage: tmpdir(t), bootstrap: net.bootstrap, rootInterval: 200, attest: { everyCalls: 1, everyMs: 100 }, sandboxFactory: createSandbox })
  t.teardown(() => w.close())
  const cw = await w.watch(d.contract)
  const client = await connectClient(t, net, d.contract, { identity: bob })
  await client.RSVP('bob', true)
  await client.RSVP('bob', false)
  const host = node.contracts.get(d.contract.toString('hex'))!
  t.ok(await until(() => cw.verdict?.verdict === 'ok' && cw.verdict.length === host.log.length), 'the watcher judged every call ok (init by the deployer included)')
  t.ok(await until(() => node.attestations.latest(d.contract).some((a) => a.length === host.log.length)), 'its attestation reached the public node')
})

test('attack: deploy floods under fresh keys meet the node-wide rate limit; a failing init is charged too', async (t) => {
  const policy = new DeployPolicy({ rate: { count: 5, perMs: 60_000 }, totalRate: { count: 3, perMs: 60_000 } })
  const now = 1_000_000
  for (let i = 0; i < 3; i++) {
    const k = identity().publicKey
    policy.check(k, { mine: 0, total: 0 }, [], now)
    policy.charge(k, now)
  }
  t.exception(() => policy.check(identity().publicKey, { mine: 0, total: 0 }, [], now), /DEPLOY_RATE/, 'a fourth fresh key in the window is refused')
  t.execution(() => policy.check(identity().publicKey, { mine: 0, total: 0 }, [], now + 60_001), 'the window moves on')

  const net = await testnet(t)
  const node = await publicNode(t, net, tmpdir(t), { acceptDeploys: true, rate: { count: 2, perMs: 60_000 } })
  const na = await nodeClient(t, net, node, identity())
  const bad = 'exports.init = () => { throw new Error("no") }'
  t.is(await code(na.deploy(bad, { name: 'a' })), 'CONTRACT_INIT')
  t.is(await code(na.deploy(bad, { name: 'b' })), 'CONTRACT_INIT')
  t.is(await code(na.deploy(bad, { name: 'c' })), 'DEPLOY_RATE', 'failed init trials count against the rate')
})
