// Trust nothing but the contract key, client side: an impostor that
// announces a contract's discovery key and answers its RPC channel with
// internally consistent forgeries (test/impostor.ts) never gets a result,
// an info field, a file or a quorum past a client; honest hosts keep
// serving beside it, whatever the order or timing of the channels.

import test from 'brittle'
import path from 'node:path'
import { VmsClient, type ConnectedClient } from '../src/client.js'
import { formatKey } from '../src/keys.js'
import { signerOf } from '../src/attest/signer.js'
import { covers, waitForQuorum } from '../src/attest/quorum.js'
import c from 'compact-encoding'
import type { SwarmConnection } from 'hyperswarm'
import { VERDICT_OK, type Attestation } from '../protocol/index.js'
import { attestationOver, signAttestation } from '../src/attest/attestation.js'
import { keyPair } from '../src/crypto.js'
import { bootstrapArg, cliRun, connectClient, example, hostNode, identity, testnet, tmpdir, until } from './helpers.js'
import { watcherOn } from './fault-helpers.js'
import { startImpostor } from './impostor.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The code of the `{"error":{"code":...}}` line a `--json` command prints on failure (null when none). */
function jsonErrorCode (stdout: string): string | null {
  for (const line of stdout.trim().split('\n').reverse()) {
    try {
      const msg = JSON.parse(line) as { error?: { code?: string } }
      if (msg.error && typeof msg.error.code === 'string') return msg.error.code
    } catch {}
  }
  return null
}

function cliArgs (net: Parameters<typeof bootstrapArg>[0], dir: string, extra: string[] = []): string[] {
  return ['--json', '--bootstrap', bootstrapArg(net), '--identity', path.join(dir, 'id.json'), '--timeout', '4000', ...extra]
}

test('impostor alone: `call --json` fails FORGED_REPLY and never prints 1337; `info` shows no forged data; VmsClient refuses', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const key = formatKey(host.key)
  await node.close() // the honest host is offline
  const imp = await startImpostor(t, net, host.key)
  const dir = tmpdir(t)

  const called = await cliRun(['call', key, 'increment', ...cliArgs(net, dir)])
  t.not(called.code, 0, 'call exits non-zero')
  t.absent(called.stdout.includes('1337'), 'the forged result is not printed')
  t.is(jsonErrorCode(called.stdout), 'FORGED_REPLY', called.stdout.trim())

  const info = await cliRun(['info', key, ...cliArgs(net, dir)])
  t.not(info.code, 0, 'info exits non-zero')
  t.absent(info.stdout.includes('forged') || info.stdout.includes('steal') || info.stdout.includes(formatKey(imp.files)), 'no forged field is shown')
  t.is(jsonErrorCode(info.stdout), 'FORGED_REPLY', info.stdout.trim())

  await t.exception(VmsClient.connect(host.key, { bootstrap: net.bootstrap, identity: identity(), timeout: 3000 }), /FORGED_REPLY/, 'VmsClient.connect refuses the forged info')
  t.ok(imp.served.info >= 3, 'the impostor was asked (and answered) each time')
})

for (const order of ['impostor first', 'host first']) {
  test(`impostor plus honest host (${order}): every result, info field and file is the honest one`, async (t) => {
    const net = await testnet(t)
    const storage = tmpdir(t)
    let node = await hostNode(t, net, storage)
    let host = await node.deploy(example('rsvp.js'), { name: 'rsvp' })
    let imp
    let client: ConnectedClient
    if (order === 'impostor first') {
      await node.close()
      imp = await startImpostor(t, net, host.key)
      // the client meets the impostor alone first; the host comes back while it waits for another peer
      const connecting = VmsClient.connect(host.key, { bootstrap: net.bootstrap, identity: identity(), timeout: 8000, lookup: { minMs: 500 } })
      await until(() => imp!.served.info >= 1, 8000)
      node = await hostNode(t, net, storage)
      host = await node.deploy(example('rsvp.js'), { name: 'rsvp' })
      client = await connecting
      t.teardown(() => client.close())
      t.ok(imp.served.info >= 1, 'the impostor was asked first (and dropped)')
    } else {
      imp = await startImpostor(t, net, host.key)
      client = await connectClient(t, net, host.key, { timeout: 5000 })
    }
    const results: unknown[] = []
    for (let i = 0; i < 6; i++) results.push(await client.call('RSVP', 'bob', i % 2 === 0))
    t.alike(results, [undefined, undefined, undefined, undefined, undefined, undefined], 'RSVP returns nothing, never 1337')
    t.alike(client.info.files, host.log.drive!.key, 'info.files is the genesis files key')
    t.is(client.info.name, 'rsvp', 'info.name from the genesis')
    t.alike(client.info.methods.sort(), ['RSVP', 'init'], 'methods from the honest host')
    const drive = await client.openFiles()
    t.alike(drive.key, host.log.drive!.key, 'openFiles is the honest drive')
    const r = await client.read(`/rsvps/${formatKey(client.identity.publicKey)}.json`)
    t.is(JSON.parse(r.value!.toString()).isAttending, false, 'the last RSVP, read from the honest drive')
    t.is(r.length, host.log.length, 'covered by the log as signed')
    t.comment(`impostor served ${JSON.stringify(imp.served)}`)
  })
}

test('impostor replaying the host\'s genuine info, forging the call: banned, and the same request runs once on the honest host', async (t) => {
  const net = await testnet(t)
  const storage = tmpdir(t)
  let node = await hostNode(t, net, storage)
  let host = await node.deploy(example('counter.js'), { name: 'counter' })
  const root = await host.root()
  const replayInfo = { info: host.info(), genesis: { signer: host.signer(), root, proof: await host.prove(0, root.length) } }
  await node.close()
  const imp = await startImpostor(t, net, host.key, { replayInfo, replayRoot: root })
  const client = await connectClient(t, net, host.key, { timeout: 8000, lookup: { minMs: 300 } })
  t.is(imp.served.info, 1, 'connected through the replayed (genuine) info')
  node = await hostNode(t, net, storage)
  host = await node.deploy(example('counter.js'), { name: 'counter' })
  t.is(await client.call('increment'), 1, 'the honest result')
  t.is(imp.served.call, 1, 'the impostor forged the first attempt')
  t.is(host.log.length, 2, 'the call ran exactly once')
  t.is(await client.call('increment'), 2)
  t.is(imp.served.call, 1, 'the banned impostor is not asked again')
})

test('impostor relaying the signed request to the host, then forging the answer: the client finds its call in the signed log; it ran once', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const root = await host.root()
  const replayInfo = { info: host.info(), genesis: { signer: host.signer(), root, proof: await host.prove(0, root.length) } }
  const imp = await startImpostor(t, net, host.key, { replayInfo, replayRoot: root, relay: true })
  t.ok(await until(() => imp.relays >= 1, 10_000), 'the impostor holds a channel to the host')
  const client = await connectClient(t, net, host.key, { timeout: 8000 })
  t.ok(await until(() => client.peers.list.length === 2, 10_000), 'both peers connected')
  // whichever proved itself first, make the impostor the first one asked (as if its replayed info had come first)
  const remote = (p: { conn: { remotePublicKey: Buffer } }): string => p.conn.remotePublicKey.toString('hex')
  const nodeKey = (node as unknown as { swarm: { keyPair: { publicKey: Buffer } } }).swarm.keyPair.publicKey.toString('hex')
  for (const p of client.peers.list) p.proven = remote(p) === nodeKey ? 1e9 : 1
  t.is(await client.call('increment'), 1, 'the honest result, from the log')
  t.is(imp.served.call, 1, 'the impostor relayed and forged')
  t.is(host.log.length, 2, 'the call ran exactly once')
  t.is(client.lastReceipt!.index, 1, 'with a receipt of its record')
  t.is(await client.call('increment'), 2)
  t.is(host.log.length, 3)
})

test('impostor replaying the genuine info with forged methods: `vms-node info` shows the methods of the genesis source', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const root = await host.root()
  const genuine = { info: host.info(), genesis: { signer: host.signer(), root, proof: await host.prove(0, root.length) } }
  await node.close()
  await startImpostor(t, net, host.key, { replayInfo: { ...genuine, info: { ...genuine.info, methods: ['steal'], name: 'forged' } } })
  const info = await cliRun(['info', formatKey(host.key), ...cliArgs(net, tmpdir(t))])
  t.is(info.code, 0, info.stderr)
  const out = JSON.parse(info.stdout)
  t.alike(out.methods, ['increment'], 'methods from the genesis source')
  t.is(out.name, 'counter', 'name from the genesis')
  t.is(out.files, formatKey(host.log.drive!.key!), 'files key from the genesis')
})

test('impostor replaying an old genuine root: reads follow the longest signed root, not the stale one', async (t) => {
  const net = await testnet(t)
  const storage = tmpdir(t)
  let node = await hostNode(t, net, storage)
  let host = await node.deploy(example('rsvp.js'), { name: 'rsvp' })
  const root = await host.root()
  const replayInfo = { info: host.info(), genesis: { signer: host.signer(), root, proof: await host.prove(0, root.length) } }
  await node.close()
  const imp = await startImpostor(t, net, host.key, { replayInfo, replayRoot: root })
  const client = await connectClient(t, net, host.key, { timeout: 8000, lookup: { minMs: 300 } })
  node = await hostNode(t, net, storage)
  host = await node.deploy(example('rsvp.js'), { name: 'rsvp' })
  const writer = await connectClient(t, net, host.key, { timeout: 8000 })
  await writer.call('RSVP', 'alice', true)
  t.ok(await until(() => client.peers.list.length === 2, 10_000), 'both peers connected')
  const latest = await client.root()
  t.is(latest.length, host.log.length, 'the longest signed root')
  const r = await client.read(`/rsvps/${formatKey(writer.identity.publicKey)}.json`)
  t.is(JSON.parse(r.value!.toString()).name, 'alice', 'the read sees the newer call')
  t.ok(imp.served.root >= 1, 'the impostor was asked too')
})

test('impostor whose channel opens 1.5 s late: the proven host is never replaced', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const imp = await startImpostor(t, net, host.key, { openDelay: 1500 })
  const client = await connectClient(t, net, host.key, { timeout: 5000 })
  const results: unknown[] = []
  for (let i = 0; i < 8; i++) {
    results.push(await client.call('increment'))
    await sleep(400)
  }
  t.alike(results, [1, 2, 3, 4, 5, 6, 7, 8], 'every result honest')
  t.is(client.peers.list.length, 2, 'the impostor\'s channel did open')
  t.is(imp.served.call + imp.served.info + imp.served.root, 0, 'it was never asked: an unproven peer never replaces the proven host')
})

test('impostor that rejects the channel 300 ms late: calls still go to the honest host', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const imp = await startImpostor(t, net, host.key, { rejectAfter: 300 })
  const client = await connectClient(t, net, host.key, { timeout: 5000 })
  const results: unknown[] = []
  for (let i = 0; i < 6; i++) {
    results.push(await client.call('increment'))
    await sleep(150)
  }
  t.alike(results, [1, 2, 3, 4, 5, 6], 'every call succeeded on the honest host')
  t.ok(await until(() => imp.rejected >= 1, 5000), 'the impostor did reject a channel')
  t.is(client.peers.list.length, 1, 'the rejected channel is not kept')
})

test('checkReceipt with only an impostor left: FORGED_REPLY, not REQUEST_TIMEOUT', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const imp = await startImpostor(t, net, host.key, { openDelay: 1500 })
  const client = await connectClient(t, net, host.key, { timeout: 3000 })
  t.is(await client.call('increment'), 1)
  t.ok(await until(() => client.peers.list.length === 2, 10_000), 'the impostor\'s channel opened too')
  await node.close()
  t.ok(await until(() => client.peers.list.length === 1, 10_000), 'the host\'s channel closed')
  await t.exception(client.checkReceipt(), /FORGED_REPLY/)
  t.ok(imp.served.root >= 1, 'the impostor was asked for roots')
})

test('forged receipt with --quorum 1: an honest watcher\'s ok at the same length never satisfies it', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const dir = tmpdir(t)
  const storage = path.join(dir, 'client')
  const w = await watcherOn(t, net)
  await w.watch(host.key)
  // a client that keeps its attestations: it learns the honest watcher's ok at length 2
  const first = await VmsClient.connect(host.key, { bootstrap: net.bootstrap, identity: identity(), timeout: 5000, storage })
  t.is(await first.call('increment'), 1)
  t.is(host.log.length, 2)
  t.ok(await until(() => first.attestations.latest(host.key).some((a) => a.verdict === VERDICT_OK && a.length === 2), 20_000), 'honest ok at length 2 known')
  const honest = first.attestations.latest(host.key).find((a) => a.verdict === VERDICT_OK && a.length === 2)!
  await first.close()
  await node.close()

  const imp = await startImpostor(t, net, host.key)
  const called = await cliRun(['call', formatKey(host.key), 'increment', ...cliArgs(net, dir, ['--storage', storage, '--quorum', '1', '--quorum-timeout', '3000'])])
  t.not(called.code, 0, 'the call fails')
  t.absent(called.stdout.includes('1337'), 'no forged result')
  t.is(jsonErrorCode(called.stdout), 'FORGED_REPLY', called.stdout.trim())
  t.ok(imp.served.info + imp.served.call >= 1, 'the impostor answered')

  // the quorum rule itself: an attestation counts only over the receipt's own tree
  const signer = signerOf(host.log.core) ?? { version: 1, publicKey: Buffer.alloc(32), namespace: Buffer.alloc(32) }
  const forgedRoot = { contract: host.key, length: 2, fork: 0, treeHash: Buffer.alloc(32, 7), signature: Buffer.alloc(64) }
  t.absent(await covers({ root: forgedRoot, signer }, honest), 'same length, other tree: not covered')
  t.absent(await covers({ root: { ...forgedRoot, treeHash: honest.treeHash }, signer: { ...signer, publicKey: Buffer.alloc(32, 1) } }, honest), 'other signer: not covered')
  t.ok(await covers({ root: { ...forgedRoot, treeHash: honest.treeHash }, signer }, honest), 'the receipt\'s own tree: covered')
  const { AttestationStore } = await import('../src/attest/store.js')
  const store = new AttestationStore()
  store.add(honest)
  await t.exception(waitForQuorum(store, host.key, { root: forgedRoot, signer }, 1, 500), /QUORUM_TIMEOUT/, 'a forged receipt of length 2 is not satisfied by the honest ok at 2')
})

test('reads are proven: an unlogged drive edit after the last call is never returned by openFiles() or read()', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('rsvp.js'), { name: 'rsvp' })
  const client = await connectClient(t, net, host.key, { timeout: 5000 })
  await client.call('RSVP', 'bob', true)
  const file = `/rsvps/${formatKey(client.identity.publicKey)}.json`
  const logged = host.log.drive!.version
  // the operator edits the drive behind the log's back
  await host.log.drive!.put(file, Buffer.from(JSON.stringify({ name: 'bob', isAttending: false, forged: true })))
  t.ok(host.log.drive!.version > logged, 'the drive head moved without a call')
  const r = await client.read(file)
  t.is(r.filesVersion, logged, 'read at the version the last record names')
  t.is(JSON.parse(r.value!.toString()).isAttending, true, 'the logged value, not the edit')
  t.is(r.length, host.log.length)
  const drive = await client.openFiles()
  t.is(drive.version, logged, 'openFiles is checked out at the covered version')
  t.is(JSON.parse((await drive.get(file))!.toString()).isAttending, true)
})

test('client connections are guarded: a peer that sends a frame on a channel it never opened is dropped; calls carry on', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  let dropped = 0
  let attacked = 0
  await startImpostor(t, net, host.key, {
    onconnection (conn: SwarmConnection) {
      conn.once('close', () => { dropped++ })
      setTimeout(() => {
        if (conn.destroyed) return
        attacked++
        conn.write(Buffer.concat([c.encode(c.uint, 7), c.encode(c.uint, 0), Buffer.alloc(4)])) // channel 7 was never opened
      }, 300)
    }
  })
  const client = await connectClient(t, net, host.key, { timeout: 5000 })
  t.is(await client.call('increment'), 1)
  t.ok(await until(() => attacked >= 1 && dropped >= 1, 10_000), 'the client dropped the abusive connection')
  t.is(await client.call('increment'), 2, 'and keeps calling the honest host')
})

test('quorum covers the receipt: an ok at a longer length counts only when the replicated log extends the receipt\'s tree', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const client = await connectClient(t, net, host.key, { timeout: 5000 })
  await client.call('increment')
  const receipt = client.lastReceipt!
  const other = await connectClient(t, net, host.key, { timeout: 5000 })
  await other.call('increment')
  const signer = signerOf(host.log.core)!
  const at = async (length: number, treeHash?: Uint8Array): Promise<Attestation> => {
    const root = await host.root(length)
    return signAttestation({ ...attestationOver(root, signer, { runtime: 'test' }), length, treeHash: treeHash ?? root.treeHash }, keyPair())
  }
  const cov = { root: receipt.root, signer, core: client.core, timeout: 5000 }
  t.ok(await covers(cov, await at(3)), 'the honest ok at length 3 extends the receipt (length 2)')
  t.absent(await covers(cov, await at(3, Buffer.alloc(32, 9))), 'an ok at length 3 over another tree does not')
  t.absent(await covers({ root: receipt.root, signer }, await at(3)), 'without the replicated log a longer ok is not counted')
  t.absent(await covers(cov, await at(1)), 'a shorter ok does not')
})

test('reads with quorum: openFiles() and read() stay at the version k watchers attested, not the newer signed head', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('rsvp.js'), { name: 'rsvp' })
  const w = await watcherOn(t, net)
  await w.watch(host.key)
  const client = await connectClient(t, net, host.key, { timeout: 8000, quorum: 1, quorumTimeout: 20_000 })
  await client.call('RSVP', 'bob', true) // returns once the watcher attested it
  const file = `/rsvps/${formatKey(client.identity.publicKey)}.json`
  const attested = host.log.length
  const first = await client.read(file)
  t.is(first.length, attested, 'read at the attested length')
  t.ok(first.attestations.length >= 1, 'with the watcher that covers it')
  await w.close() // no one attests what follows
  const other = await connectClient(t, net, host.key, { timeout: 8000 })
  await other.call('RSVP', 'carol', false)
  t.is(host.log.length, attested + 1)
  const r = await client.read(file)
  t.is(r.length, attested, 'still the attested length, not the newer head')
  t.is(r.filesVersion, first.filesVersion)
  t.is(JSON.parse(r.value!.toString()).isAttending, true)
  const drive = await client.openFiles()
  t.is(drive.version, first.filesVersion, 'openFiles at the attested version')
  t.absent(await drive.get(`/rsvps/${formatKey(other.identity.publicKey)}.json`), 'the unattested call\'s file is not there yet')
})
