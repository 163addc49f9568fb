/**
 * The replica channel (protocol/replica.ts) over protomux-rpc: one channel
 * per contract per connection, symmetric (both ends may answer and ask).
 * A replica answers `root`/`head` with statements it keeps; the asker
 * checks them against the contract's signer (watch/fork.ts RootBook) and
 * drops a peer whose statement does not verify.
 */

import ProtomuxRPC from 'protomux-rpc'
import Protomux from 'protomux'
import c from 'compact-encoding'
import { REPLICA_PROTOCOL, rootStatement, headStatement, type HeadStatement, type RootStatement } from '../../protocol/index.js'
import { VmsError } from '../errors.js'

/** What a replica hands over for one contract (null: it holds none yet). */
export interface ReplicaSource {
  /** The newest host-signed root whose blocks it can serve. */
  root (): RootStatement | null
  /** The newest host-signed head pair it keeps, if any. */
  head? (): HeadStatement | null
}

/**
 * One contract's replica channel on a connection.
 * Events of the underlying rpc: `close`.
 */
export class ReplicaChannel {
  readonly rpc: ProtomuxRPC

  /**
   * @param stream a swarm connection
   * @param contract the contract key (channel id)
   * @param source what this end serves (null: ask only)
   * @throws when a replica channel for `contract` is already open on `stream`
   */
  constructor (stream: unknown, contract: Uint8Array, source: ReplicaSource | null) {
    this.rpc = new ProtomuxRPC(stream, { id: contract, protocol: REPLICA_PROTOCOL })
    respond(this.rpc, source)
  }

  /**
   * Asks for the newest host-signed root the peer keeps (unchecked here).
   * @param timeout ms
   * @throws VmsError NOT_FOUND (it keeps none), REQUEST_TIMEOUT, CLOSED
   */
  async root (timeout: number): Promise<RootStatement> {
    return await this.request<RootStatement>('root', rootStatement, timeout)
  }

  /**
   * Asks for the newest host-signed head pair the peer keeps (unchecked here).
   * @param timeout ms
   * @throws VmsError NOT_FOUND, REQUEST_TIMEOUT, CLOSED
   */
  async head (timeout: number): Promise<HeadStatement> {
    return await this.request<HeadStatement>('head', headStatement, timeout)
  }

  /** Closes the channel. */
  close (): void {
    this.rpc.destroy()
  }

  private async request<T> (method: string, enc: unknown, timeout: number): Promise<T> {
    try {
      return await this.rpc.request<T>(method, Buffer.alloc(0), { requestEncoding: c.raw, responseEncoding: enc, timeout })
    } catch (err) {
      const e = err as { code?: string, cause?: { code?: string, message?: string } }
      if (e.code === 'REQUEST_ERROR' && e.cause && typeof e.cause.code === 'string' && typeof e.cause.message === 'string') throw VmsError.from(e.cause)
      if (e.code === 'TIMEOUT_EXCEEDED') throw VmsError.REQUEST_TIMEOUT(`no answer to replica ${method} in ${timeout} ms`)
      if (e.code === 'CHANNEL_CLOSED' || e.code === 'CHANNEL_DESTROYED') throw VmsError.CLOSED('connection to the replica closed')
      throw VmsError.from(err)
    }
  }
}

function respond (rpc: ProtomuxRPC, source: ReplicaSource | null): void {
  rpc.respond('root', { requestEncoding: c.raw, responseEncoding: rootStatement }, () => {
    const s = source ? source.root() : null
    if (!s) throw VmsError.NOT_FOUND('this peer keeps no root of the contract')
    return s
  })
  rpc.respond('head', { requestEncoding: c.raw, responseEncoding: headStatement }, () => {
    const h = source && source.head ? source.head() : null
    if (!h) throw VmsError.NOT_FOUND('this peer keeps no head of the contract')
    return h
  })
}

/**
 * Answers replica channels a peer opens first, for the contracts `lookup`
 * finds (the channels this end opens itself are made with {@link ReplicaChannel}).
 * @param stream a swarm connection
 * @param lookup contract key -> what to serve, or null when not kept here
 */
export function serveReplicas (stream: unknown, lookup: (key: Buffer) => ReplicaSource | null): void {
  const mux = Protomux.from(stream)
  mux.pair({ protocol: REPLICA_PROTOCOL }, (id) => {
    if (!id) return
    const source = lookup(Buffer.from(id))
    if (source) openReplica(stream, id, source)
  })
}

const opened = new WeakMap<object, Map<string, ReplicaChannel>>()

/**
 * The replica channel of `contract` on `stream`: the one already open
 * (whichever end opened it first), else a new one serving `source`.
 * @returns null when the channel cannot be opened (stream closing)
 */
export function openReplica (stream: unknown, contract: Uint8Array, source: ReplicaSource | null): ReplicaChannel | null {
  const s = stream as object
  let byKey = opened.get(s)
  if (!byKey) opened.set(s, (byKey = new Map()))
  const id = Buffer.from(contract).toString('hex')
  const have = byKey.get(id)
  if (have && !have.rpc.closed) return have
  let ch: ReplicaChannel
  try {
    ch = new ReplicaChannel(stream, contract, source)
  } catch {
    return null
  }
  byKey.set(id, ch)
  ch.rpc.on('close', () => { if (byKey!.get(id) === ch) byKey!.delete(id) })
  return ch
}
