/**
 * The attacker of the soak (scripts/soak.ts), in its own process so that its
 * CPU does not count as the host's or the honest client's. Three loops, all
 * at once, until told to exit:
 * - hostile calls: signed calls of the hostile contract's bombs, one a second
 *   (the memory bomb unless `memoryBomb` is false);
 * - wire flood: unsigned calls with a 0.9 MB argument of 83,000 keys, 8 in
 *   flight, on the honest contract; when the host drops the connection, a
 *   new swarm key connects again;
 * - gossip flood: valid attestations at just under the host's rate limit
 *   (200/s): about made-up contracts, ok claims about the honest contract
 *   and fault claims about the hostile one, each from a fresh watcher key;
 *   a new connection every 30 s.
 * Prints `stats` every 5 s (counters of each loop).
 */

import c from 'compact-encoding'
import Protomux from 'protomux'
import Hypercore from 'hypercore'
import type { SwarmConnection } from 'hyperswarm'
import { VmsClient } from '../src/client.js'
import { createSwarm } from '../src/net/swarm.js'
import { RpcClient } from '../src/net/rpc.js'
import { attestationOver, signAttestation } from '../src/attest/attestation.js'
import { discoveryKey, keyPair, randomBytes, sign } from '../src/crypto.js'
import { GOSSIP_PROTOCOL, gossipFrame, rootSignable, signerRecord, type Attestation, type RootStatement, type SignerRecord } from '../protocol/index.js'
import { childIO, sleep } from './bench-lib.js'

interface Config {
  bootstrap: Array<{ host: string, port: number }>
  honest: string
  hostile: string
  honestSigner: string
  hostileSigner: string
  /** Include `Array(1e9).fill(0)`, which kills a host whose sandboxes share its process. */
  memoryBomb: boolean
  /** Which loops run: `calls`, `wire`, `gossip`. */
  attacks: string[]
}

const stats = {
  hostileCalls: {} as Record<string, number>,
  wire: { requests: 0, drops: 0, connects: 0, replies: {} as Record<string, number> },
  gossip: { sent: 0, connects: 0, drops: 0 },
  errors: [] as string[]
}
let running = true
const { config, emit } = childIO<Config>((cmd) => {
  if (cmd.cmd === 'exit') {
    running = false
    setTimeout(() => process.exit(0), 500)
  }
})
const bootstrap = config.bootstrap
const bump = (m: Record<string, number>, k: string): void => { m[k] = (m[k] ?? 0) + 1 }
const note = (err: unknown): void => {
  const msg = String((err as Error)?.message ?? err).slice(0, 200)
  if (stats.errors.length < 50) stats.errors.push(msg)
}

/** A raw connection to the host of `key` under a fresh swarm key. */
async function dial (key: Buffer): Promise<{ conn: SwarmConnection, destroy: () => Promise<void> }> {
  const swarm = createSwarm({ bootstrap })
  const conn = await new Promise<SwarmConnection>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no connection in 15 s')), 15_000)
    swarm.once('connection', (cn: SwarmConnection) => { clearTimeout(timer); resolve(cn) })
    swarm.join(discoveryKey(key), { server: false, client: true })
  }).catch(async (err) => { await swarm.destroy(); throw err })
  return { conn, destroy: async () => await swarm.destroy() }
}

async function hostileLoop (): Promise<void> {
  const methods = config.memoryBomb ? ['bomb', 'spin', 'hoard', 'shout', 'names', 'ok'] : ['spin', 'hoard', 'shout', 'names', 'ok']
  let client: Awaited<ReturnType<typeof VmsClient.connect>> | null = null
  let i = 0
  while (running) {
    try {
      if (!client) client = await VmsClient.connect(config.hostile, { bootstrap, identity: keyPair(), timeout: 15_000, faultQuorum: Number.MAX_SAFE_INTEGER }) // its own fault claims must not stop it
      const m = methods[i++ % methods.length]!
      try {
        await client.call(m, ...(m === 'hoard' ? [16] : []))
        bump(stats.hostileCalls, m + ':ok')
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'ERROR'
        bump(stats.hostileCalls, m + ':' + code)
        if (code === 'CLOSED' || code === 'REQUEST_TIMEOUT') { await client.close().catch(() => {}); client = null }
      }
    } catch (err) {
      note(err)
      if (client) await client.close().catch(() => {})
      client = null
    }
    await sleep(1000)
  }
  if (client) await client.close().catch(() => {})
}

function heavyArgs (n: number): string {
  const keys = Array.from({ length: n }, (_, i) => `k${i}`).sort()
  return '[{' + keys.map((k) => `"${k}":1`).join(',') + '}]'
}

async function wireLoop (): Promise<void> {
  const key = Buffer.from(config.honest, 'hex')
  const args = heavyArgs(83_000)
  while (running) {
    let link: Awaited<ReturnType<typeof dial>> | null = null
    try {
      link = await dial(key)
      stats.wire.connects++
      const rpc = new RpcClient(link.conn, key)
      let closed = false
      link.conn.once('close', () => { closed = true; stats.wire.drops++ })
      const worker = async (): Promise<void> => {
        while (running && !closed) {
          stats.wire.requests++
          const req = { contract: key, caller: randomBytes(32), nonce: stats.wire.requests, method: 'ping', args, signature: randomBytes(64) }
          try {
            const reply = await rpc.call(req, 30_000)
            bump(stats.wire.replies, reply.accepted ? 'accepted' : reply.error.code)
          } catch (err) {
            bump(stats.wire.replies, (err as { code?: string }).code ?? 'ERROR')
          }
        }
      }
      await Promise.all(Array.from({ length: 8 }, worker))
    } catch (err) {
      note(err)
    }
    if (link) await link.destroy().catch(() => {})
    await sleep(1000)
  }
}

/** Valid attestations about a made-up contract (its key is the hash of the attacker's own manifest). */
function madeUp (n: number): Attestation[] {
  const kp = keyPair()
  const signer = { version: 1, publicKey: kp.publicKey, namespace: randomBytes(32) }
  const contract = Hypercore.key({ version: 1, signers: [{ signature: 'ed25519', publicKey: signer.publicKey, namespace: signer.namespace }] })
  const root = { contract, length: 3, fork: 0, treeHash: randomBytes(32) }
  const signed = { ...root, signature: sign(rootSignable(root), kp.secretKey) }
  return Array.from({ length: n }, () => signAttestation(attestationOver(signed, signer, { runtime: 'soak' }), keyPair()))
}

function about (root: RootStatement, signer: SignerRecord, n: number, fault: boolean): Attestation[] {
  const claim = fault ? { kind: 'result', index: 1, cause: 'host', message: 'soak claim', evidence: '{}' } : null
  return Array.from({ length: n }, () => signAttestation(attestationOver(root, signer, { fault: claim, runtime: 'soak' }), keyPair()))
}

async function gossipLoop (): Promise<void> {
  const honest = Buffer.from(config.honest, 'hex')
  const hostile = Buffer.from(config.hostile, 'hex')
  const honestSigner = c.decode(signerRecord, Buffer.from(config.honestSigner, 'hex'))
  const hostileSigner = c.decode(signerRecord, Buffer.from(config.hostileSigner, 'hex'))
  while (running) {
    let link: Awaited<ReturnType<typeof dial>> | null = null
    try {
      link = await dial(honest)
      stats.gossip.connects++
      let closed = false
      link.conn.once('close', () => { closed = true; stats.gossip.drops++ })
      const mux = Protomux.from(link.conn)
      // the gossip channel first: the host opens its side as soon as it sees the connection
      const channel = mux.createChannel({ protocol: GOSSIP_PROTOCOL, unique: true })!
      const msg = channel.addMessage({ encoding: c.raw })
      channel.open()
      const roots = [new RpcClient(mux, honest), new RpcClient(mux, hostile)]
      const [rootHonest, rootHostile] = await Promise.all(roots.map((r) => r.root(10_000)))
      while (!channel.opened && !closed) await sleep(50)
      const end = Date.now() + 30_000
      while (running && !closed && Date.now() < end) {
        // 48 a quarter second: 192/s, under the host's 200/s
        const list = [...madeUp(16), ...about(rootHonest!, honestSigner, 16, false), ...about(rootHostile!, hostileSigner, 16, true)]
        for (let i = 0; i < list.length; i += 16) msg.send(c.encode(gossipFrame, { attestations: list.slice(i, i + 16) }))
        stats.gossip.sent += list.length
        await sleep(250)
      }
    } catch (err) {
      note(err)
    }
    if (link) await link.destroy().catch(() => {})
    await sleep(500)
  }
}

setInterval(() => emit({ event: 'stats', ...stats }), 5000).unref()
emit({ event: 'ready' })
const loops = { calls: hostileLoop, wire: wireLoop, gossip: gossipLoop }
await Promise.all(Object.entries(loops).filter(([name]) => config.attacks.includes(name)).map(async ([, loop]) => await loop()))
