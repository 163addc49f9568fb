/**
 * An impostor peer for the trust tests: a swarm node that announces a
 * contract's discovery key and answers its RPC channel, holding none of the
 * contract's keys. Its answers are internally consistent forgeries: a log of
 * its own (own signer, own genesis naming its own files drive, which it
 * serves by replication) whose roots it signs with its own key while naming
 * the real contract key, and block proofs that verify under those roots.
 * Only the check against the contract key (the manifest that hashes to it)
 * can catch it.
 */

import c from 'compact-encoding'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import Protomux from 'protomux'
import ProtomuxRPC from 'protomux-rpc'
import type { Testnet } from 'hyperdht/testnet.js'
import type { SwarmConnection } from 'hyperswarm'
import { RECORD_VERSION, RPC_PROTOCOL, callRequest, logBlock, provenCallReply, provenInfo, rootSignable, rootStatement, type CallRequest, type ProvenCallReply, type ProvenInfo, type RootStatement, type SignerRecord } from '../protocol/index.js'
import { DEFAULT_LIMITS } from '../src/runtime/types.js'
import { signerOf } from '../src/attest/signer.js'
import { discoveryKey, hash, randomBytes, sign } from '../src/crypto.js'
import { proveBlock } from '../src/log/block-proof.js'
import { createSwarm } from '../src/net/swarm.js'
import { RpcClient } from '../src/net/rpc.js'
import { tmpdir, type T } from './helpers.js'

/** How the impostor behaves. */
export interface ImpostorOptions {
  /** ms it waits before opening the RPC channel a peer asks for (default 0). */
  openDelay?: number
  /** Reject the channel this many ms after a peer asks for it, and serve nothing (default: serve). */
  rejectAfter?: number
  /** The forged result, JSON (default `1337`). */
  result?: string
  /** Methods it claims (default increment and steal). */
  methods?: string[]
  /** Claim this signer (e.g. the real one) instead of its own log's. */
  signer?: SignerRecord
  /** Replay this genuine info reply (captured from the host) instead of forging one. */
  replayInfo?: ProvenInfo
  /** Replay this genuine root instead of signing its own. */
  replayRoot?: RootStatement
  /** Relay every signed call to the honest host first (it connects to the topic as a client too), then forge the answer. */
  relay?: boolean
  /** Called with every connection it gets (e.g. to send raw frames). */
  onconnection?: (conn: SwarmConnection) => void
}

/** A running impostor. */
export interface Impostor {
  /** Requests it answered, per method. */
  served: { info: number, root: number, call: number }
  /** Channels to honest hosts it relays to (with `relay`). */
  relays: number
  /** Channels it rejected. */
  rejected: number
  /** Its own files drive key (what its forged info names). */
  files: Buffer
  close (): Promise<void>
}

/**
 * Starts an impostor for `contract` on `net`, closed at teardown.
 * @returns counters and its forged files key
 */
export async function startImpostor (t: T, net: Testnet, contract: Uint8Array, opts: ImpostorOptions = {}): Promise<Impostor> {
  const store = new Corestore(tmpdir(t))
  const core = store.get({ name: 'forged-log' })
  await core.ready()
  const drive = new Hyperdrive(store.namespace('forged-files'))
  await drive.ready()
  await drive.put('/rsvps/forged.json', Buffer.from(JSON.stringify({ name: 'mallory', isAttending: true, forged: true })))
  const source = 'exports.increment = () => 1337'
  await core.append(c.encode(logBlock, {
    type: 'genesis',
    genesis: {
      version: RECORD_VERSION,
      name: 'forged',
      source,
      sourceHash: hash(Buffer.from(source)),
      files: drive.key!,
      filesVersion: drive.version,
      deployer: randomBytes(32),
      signer: core.keyPair!.publicKey,
      runtime: 'forged',
      limits: { ...DEFAULT_LIMITS, timeoutMs: 1000, memoryMb: 64, maxArgsBytes: 1024, maxResultBytes: 1024, maxWriteBytes: 1024 },
      oracles: false,
      createdAt: Date.now()
    }
  }))
  const signer = opts.signer ?? signerOf(core)!
  const result = opts.result ?? '1337'
  const methods = opts.methods ?? ['increment', 'steal']
  const served = { info: 0, root: 0, call: 0 }
  const imp: Impostor = { served, rejected: 0, relays: 0, files: drive.key!, close: async () => {} }

  const signRoot = async (length = core.length): Promise<RootStatement> => {
    const body = { contract, length, fork: 0, treeHash: await core.treeHash(length) }
    return { ...body, signature: sign(rootSignable(body), core.keyPair!.secretKey!) }
  }
  const forgedInfo = async (): Promise<ProvenInfo> => {
    if (opts.replayInfo) return opts.replayInfo
    const root = await signRoot()
    return {
      info: { contract: Buffer.from(contract), files: drive.key!, name: 'forged', methods, length: root.length, fork: 0, runtime: 'forged', oracles: false, limits: { ...DEFAULT_LIMITS, timeoutMs: 1000, memoryMb: 64, maxArgsBytes: 1024, maxResultBytes: 1024, maxWriteBytes: 1024 } },
      genesis: { signer, root, proof: await proveBlock(core, 0, root.length) }
    }
  }
  const relays: RpcClient[] = []
  const forgedCall = async (req: CallRequest): Promise<ProvenCallReply> => {
    if (opts.relay) for (const r of relays) await r.call(req, 5000).catch(() => null)
    const outcome = { ok: true, result, error: null, limit: null }
    // a record of exactly the caller's request, in its own log
    await core.append(c.encode(logBlock, {
      type: 'call',
      call: { version: RECORD_VERSION, request: req, timestamp: Date.now(), seed: randomBytes(32), oracles: [], outcome, filesBefore: drive.version, filesAfter: drive.version, filesHash: await drive.core.treeHash(drive.version) }
    }))
    const index = core.length - 1
    const root = await signRoot()
    return { accepted: true, response: { outcome, index, root }, signer, proof: await proveBlock(core, index, root.length) }
  }

  const swarm = createSwarm({ bootstrap: net.bootstrap, firewalled: false })
  swarm.on('connection', (conn: SwarmConnection) => {
    if (opts.onconnection) opts.onconnection(conn)
    if ((conn as unknown as { isInitiator: boolean }).isInitiator) {
      // it dialed this peer: an honest host to relay to
      const rpc = new RpcClient(conn, contract)
      rpc.rpc.fullyOpened().then(() => { if (rpc.rpc.opened) { relays.push(rpc); imp.relays++ } }, () => {})
      return
    }
    store.replicate(conn)
    const mux = Protomux.from(conn)
    mux.pair({ protocol: RPC_PROTOCOL }, async (id: Uint8Array | null) => {
      if (!id || !Buffer.from(id).equals(Buffer.from(contract))) return
      if (opts.rejectAfter !== undefined) {
        await sleep(opts.rejectAfter)
        imp.rejected++
        return // not opening it: protomux rejects the peer's channel now
      }
      if (opts.openDelay) await sleep(opts.openDelay)
      if (conn.destroyed) return
      let rpc: ProtomuxRPC
      try {
        rpc = new ProtomuxRPC(mux, { id: Buffer.from(contract), protocol: RPC_PROTOCOL })
      } catch {
        return
      }
      rpc.respond('info', { requestEncoding: c.raw, responseEncoding: provenInfo }, async () => { served.info++; return await forgedInfo() })
      rpc.respond('root', { requestEncoding: c.raw, responseEncoding: rootStatement }, async () => { served.root++; return opts.replayRoot ?? await signRoot() })
      rpc.respond('call', { requestEncoding: c.raw, responseEncoding: provenCallReply }, async (raw: Uint8Array) => { served.call++; return await forgedCall(c.decode(callRequest, raw)) })
    })
  })
  const discovery = swarm.join(discoveryKey(contract), { server: true, client: !!opts.relay })
  await discovery.flushed()
  let closed = false
  imp.close = async () => {
    if (closed) return
    closed = true
    await swarm.destroy()
    await drive.close()
    await core.close()
    await store.close()
  }
  t.teardown(() => imp.close())
  return imp
}

function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
