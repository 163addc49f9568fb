// Fault suite, the wire: peers that send malformed protomux frames, unknown
// message types, oversized frames, or open thousands of channels are dropped
// by the connection guard (src/net/guard.ts) while other peers carry on; a
// watcher is guarded the same way against a hostile "host"; an attestation
// flood from thousands of watcher keys leaves memory bounded.

import test from 'brittle'
import { EventEmitter } from 'node:events'
import c from 'compact-encoding'
import Protomux from 'protomux'
import type { SwarmConnection } from 'hyperswarm'
import { createSwarm } from '../src/net/swarm.js'
import { guardConnection } from '../src/net/guard.js'
import { Gossip } from '../src/net/gossip.js'
import { AttestationStore } from '../src/attest/store.js'
import { attestationOver, signAttestation } from '../src/attest/attestation.js'
import { signerOf } from '../src/attest/signer.js'
import { discoveryKey, keyPair, randomBytes } from '../src/crypto.js'
import { GOSSIP_PROTOCOL, RPC_PROTOCOL, gossipFrame } from '../protocol/index.js'
import { example, hostNode, testnet } from './helpers.js'
import type { T } from './helpers.js'
import type { Testnet } from 'hyperdht/testnet.js'
import { connect, until, watcherOn } from './fault-helpers.js'

/** Encodes protomux frames by hand (see src/net/guard.ts for the layout). */
const frame = {
  open (id: number, protocol: string, channelId: Uint8Array | null = null): Buffer {
    const parts = [c.encode(c.uint, 0), c.encode(c.uint, 1), c.encode(c.uint, id), c.encode(c.string, protocol), channelId ? Buffer.concat([Buffer.from([1]), c.encode(c.buffer, channelId)]) : Buffer.from([0])]
    return Buffer.concat(parts)
  },
  message (channel: number, type: number, payload: Uint8Array = Buffer.alloc(4)): Buffer {
    return Buffer.concat([c.encode(c.uint, channel), c.encode(c.uint, type), payload])
  }
}

/** A raw connection to the host of `key`, and a promise of its close. */
async function attacker (t: T, net: Testnet, key: Uint8Array): Promise<{ conn: SwarmConnection, closed: Promise<unknown> }> {
  const swarm = createSwarm({ bootstrap: net.bootstrap })
  t.teardown(() => swarm.destroy())
  const conn = await new Promise<SwarmConnection>((resolve) => {
    swarm.once('connection', resolve)
    swarm.join(discoveryKey(key), { server: false, client: true })
  })
  return { conn, closed: new Promise((resolve) => conn.once('close', resolve)) }
}

test('wire attacks on a host: malformed frames, unknown control and message types, messages on unopened channels, oversized frames, thousands of channels -> that connection is dropped, others unaffected', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const good = await connect(t, net, host.key)
  t.is(await good.increment(), 1)
  const goodConns = [...good.swarm.connections]
  let expected = 1

  const attacks: Array<{ name: string, send (conn: SwarmConnection): void }> = [
    { name: 'a frame that does not decode', send: (conn) => conn.write(Buffer.from([0, 1, 0xff])) },
    { name: 'an unknown control message', send: (conn) => conn.write(Buffer.from([0, 9, 1, 2, 3])) },
    { name: 'a message on a channel never opened', send: (conn) => conn.write(frame.message(7, 0)) },
    { name: 'an unknown message type on the gossip channel', send: (conn) => { conn.write(frame.open(1, GOSSIP_PROTOCOL)); conn.write(frame.message(1, 5)) } },
    { name: 'an unknown message type on the host RPC channel', send: (conn) => { conn.write(frame.open(1, RPC_PROTOCOL, host.key)); conn.write(frame.message(1, 2)) } },
    { name: 'a batch inside a batch', send: (conn) => conn.write(Buffer.from([0, 0, 0, 3, 0, 0, 0])) },
    { name: 'a 13 MiB frame', send: (conn) => conn.write(Buffer.alloc(13 * 1024 * 1024)) },
    {
      name: '3,000 channels opened at once',
      send: (conn) => {
        const mux = Protomux.from(conn)
        for (let i = 0; i < 3000; i++) mux.createChannel({ protocol: RPC_PROTOCOL, id: randomBytes(32) })?.open()
      }
    }
  ]
  for (const a of attacks) {
    const { conn, closed } = await attacker(t, net, host.key)
    a.send(conn)
    await closed
    t.pass(`${a.name}: the host dropped the connection`)
    t.is(await good.increment(), ++expected, `${a.name}: the honest client is still served`)
  }
  t.ok(goodConns.every((conn) => !conn.destroyed) && good.swarm.connections.size === goodConns.length, 'on the very same connection')
  t.is(host.log.length, 1 + expected, 'only the honest calls were logged')
})

test('a hostile peer announcing a contract floods the watcher that connects to it -> the watcher drops it and keeps judging the real host', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const caller = await connect(t, net, host.key)
  await caller.increment()

  const evil = createSwarm({ bootstrap: net.bootstrap, firewalled: false })
  t.teardown(() => evil.destroy())
  let dropped = 0
  evil.on('connection', (conn: SwarmConnection) => {
    conn.once('close', () => { dropped++ })
    const mux = Protomux.from(conn)
    for (let i = 0; i < 2000; i++) mux.createChannel({ protocol: 'hypercore/alpha', id: randomBytes(32) })?.open()
  })
  evil.join(discoveryKey(host.key), { server: true, client: false })
  await evil.flush()

  const w = await watcherOn(t, net)
  const cw = await w.watch(host.key)
  t.ok(await until(() => dropped > 0), 'the watcher dropped the flooding peer')
  for (let i = 0; i < 3; i++) await caller.increment()
  const v = await cw.until(host.log.length, 30_000)
  t.is(v.verdict, 'ok')
  t.is(v.length, host.log.length, 'and judged the real host up to its length')
})

test('a flood of channel opens that reuse freed ids (guard unit) -> passes the channel id cap, dropped by the open rate; well-formed traffic passes', (t) => {
  const stream = Object.assign(new EventEmitter(), { destroyed: false, destroy (this: { destroyed: boolean }) { this.destroyed = true } })
  const reasons: string[] = []
  const guard = guardConnection(stream, { maxChannels: 16, openRate: 1, ondrop: (r) => reasons.push(r) })
  for (let i = 0; i < 16; i++) stream.emit('data', frame.open(1, 'x/unknown'))
  t.absent(stream.destroyed, 'sixteen opens of one reused id are fine')
  stream.emit('data', frame.open(1, 'x/unknown'))
  t.ok(stream.destroyed)
  t.alike(reasons, ['channel open flood'])
  t.is(guard.dropped, 'channel open flood')

  const s2 = Object.assign(new EventEmitter(), { destroyed: false, destroy (this: { destroyed: boolean }) { this.destroyed = true } })
  const g2 = guardConnection(s2)
  s2.emit('data', frame.open(1, GOSSIP_PROTOCOL))
  s2.emit('data', frame.message(1, 0))
  s2.emit('data', Buffer.concat([Buffer.from([0, 0]), c.encode(c.uint, 1), c.encode(c.uint, 2), Buffer.from([0, 1])])) // a batch of one gossip message
  s2.emit('data', Buffer.from([0, 3, 1])) // the peer closes its channel
  t.absent(s2.destroyed, 'well-formed traffic passes')
  t.is(g2.frames, 4)
  s2.emit('data', frame.message(1, 0))
  t.ok(s2.destroyed, 'a message after the close is on an unopened channel')
})

test('attestation flood from thousands of distinct watcher keys -> the receiver keeps at most maxWatchers per contract and a capped dedup set, and cuts the sender off past its rate', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const body = attestationOver(await host.root(), signerOf(host.log.core)!, { runtime: 'test' })
  const flood = Array.from({ length: 3000 }, () => signAttestation(body, keyPair())) // all valid: only limits can stop them

  // the receiver: a gossiping node with small limits
  const topic = randomBytes(32)
  const store = new AttestationStore({ maxWatchers: 300 })
  const receiver = new Gossip(store, { maxSeen: 500, burst: 1000, rate: 10 })
  const server = createSwarm({ bootstrap: net.bootstrap, firewalled: false })
  t.teardown(async () => { receiver.close(); await server.destroy() })
  const strikes: string[] = []
  receiver.on('strike', (_p: unknown, reason: string) => strikes.push(reason))
  server.on('connection', (conn: SwarmConnection) => receiver.attach(conn))
  server.join(topic, { server: true, client: false })
  await server.flush()

  const { conn, closed } = await (async () => {
    const swarm = createSwarm({ bootstrap: net.bootstrap })
    t.teardown(() => swarm.destroy())
    const conn = await new Promise<SwarmConnection>((resolve) => {
      swarm.once('connection', resolve)
      swarm.join(topic, { server: false, client: true })
    })
    return { conn, closed: new Promise((resolve) => conn.once('close', resolve)) }
  })()
  const channel = Protomux.from(conn).createChannel({ protocol: GOSSIP_PROTOCOL, unique: true })!
  const msg = channel.addMessage({ encoding: c.raw })
  channel.open()
  await until(() => channel.opened)
  const send = (from: number, to: number): void => {
    for (let i = from; i < to; i += 16) msg.send(c.encode(gossipFrame, { attestations: flood.slice(i, Math.min(to, i + 16)) }))
  }
  send(0, 992) // within the burst
  t.ok(await until(() => (receiver.peers[0]?.received ?? 0) >= 992), 'the receiver read them all')
  t.is(store.latest(host.key).length, 300, 'latest attestations are capped at maxWatchers per contract')
  t.is(store.all().length, 300, 'what a new peer is sent is capped too')
  t.ok((receiver as unknown as { seen: Set<string> }).seen.size <= 500, 'the dedup set is capped')
  t.is(strikes.length, 0, 'no strike yet: every attestation was valid and within the rate')
  send(992, 3000) // past the burst, at far more than the rate
  await closed
  t.ok(strikes.length >= 3 && strikes.every((r) => r === 'rate limit'), 'the flooding sender was struck for the rate and dropped')
  t.is(store.latest(host.key).length, 300, 'and memory stayed bounded')
})
