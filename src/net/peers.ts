/**
 * The peers of one contract on a client: every connection that opens the
 * contract's RPC channel is a candidate, none is believed until it proves
 * itself (a reply that verified against the contract key, attest/reply.ts).
 *
 * - A channel that failed to open, or closed, leaves the set at once.
 * - {@link PeerSet.next} hands out proven peers first (in the order they
 *   proved themselves), then unproven ones (in the order they opened): an
 *   unproven peer never replaces a proven one.
 * - {@link PeerSet.ban} drops a peer that sent a forged reply: its channel
 *   and connection are destroyed and its noise key is refused from then on
 *   (the swarm firewall asks {@link PeerSet.banned}).
 */

import type { SwarmConnection } from 'hyperswarm'
import { VmsError } from '../errors.js'
import { RpcClient } from './rpc.js'

/** One peer's RPC channel for the contract. */
export interface Peer {
  rpc: RpcClient
  conn: SwarmConnection
  /** The peer's noise public key (hex). */
  id: string
  /** Set once a reply of this peer verified; order among proven peers. */
  proven: number
  /**
   * True once this peer answered one of our calls with a verified reply
   * (fresh: it holds our request). Info and roots can be replayed by anyone
   * who saw them; a call reply cannot.
   */
  served: boolean
  /** Order in which the channel opened. */
  opened: number
}

/** See the module doc. */
export class PeerSet {
  private readonly contract: Uint8Array
  private readonly peers: Peer[] = []
  private readonly bannedIds = new Set<string>()
  private waiting: Array<() => void> = []
  private counter = 0
  private closed = false

  /** @param contract the contract key (the RPC channel id) */
  constructor (contract: Uint8Array) {
    this.contract = contract
  }

  /** Peers with an open channel, best first (proven, then unproven). */
  get list (): Peer[] {
    return [...this.peers].sort((a, b) => (a.proven && b.proven) ? a.proven - b.proven : (a.proven ? -1 : b.proven ? 1 : a.opened - b.opened))
  }

  /** True when the peer with noise key `remotePublicKey` was banned. */
  banned (remotePublicKey: Uint8Array): boolean {
    return this.bannedIds.has(Buffer.from(remotePublicKey).toString('hex'))
  }

  /**
   * Opens the contract's RPC channel on a new connection; the peer joins
   * the set once the channel is open on both sides, and leaves it when the
   * channel closes. A banned peer's connection is destroyed.
   */
  add (conn: SwarmConnection): void {
    const id = Buffer.from(conn.remotePublicKey).toString('hex')
    if (this.closed || this.bannedIds.has(id)) {
      conn.destroy()
      return
    }
    const rpc = new RpcClient(conn, this.contract)
    const peer: Peer = { rpc, conn, id, proven: 0, served: false, opened: 0 }
    rpc.rpc.on('close', () => this.remove(peer))
    rpc.rpc.fullyOpened().then(() => {
      // protomux resolves for a rejected channel too: only an open one joins
      if (this.closed || !rpc.rpc.opened || rpc.rpc.closed) {
        rpc.close()
        return
      }
      peer.opened = ++this.counter
      this.peers.push(peer)
      for (const w of this.waiting.splice(0)) w()
    }, () => rpc.close())
  }

  /** Marks `peer` proven (a reply of it verified). */
  prove (peer: Peer): void {
    if (!peer.proven) peer.proven = ++this.counter
  }

  /** Drops a peer whose channel failed (it may come back on a new connection). */
  drop (peer: Peer): void {
    this.remove(peer)
    peer.rpc.close()
  }

  /**
   * Drops and bans a peer that sent a forged reply: its connection is
   * destroyed and refused from then on.
   * @param reason why (printed with VMS_DEBUG)
   */
  ban (peer: Peer, reason: string): void {
    this.bannedIds.add(peer.id)
    if (process.env.VMS_DEBUG) process.stderr.write(`client: banned peer ${peer.id.slice(0, 16)}: ${reason}\n`)
    this.remove(peer)
    peer.rpc.close()
    peer.conn.destroy()
  }

  /**
   * The best peer not in `skip`, waiting up to `timeout` ms for a channel.
   * @throws VmsError NOT_FOUND when none opened in time, CLOSED after close
   */
  async next (skip: ReadonlySet<Peer>, timeout: number): Promise<Peer> {
    const end = Date.now() + timeout
    for (;;) {
      if (this.closed) throw VmsError.CLOSED('client is closed')
      const p = this.list.find((x) => !skip.has(x))
      if (p) return p
      const left = end - Date.now()
      if (left <= 0) throw VmsError.NOT_FOUND(`no ${skip.size > 0 ? 'other ' : ''}peer of ${Buffer.from(this.contract).toString('hex').slice(0, 16)}... opened its channel within ${timeout} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left)
        function done (): void { clearTimeout(timer); resolve() }
        this.waiting.push(done)
      })
    }
  }

  /**
   * Runs `fn` on the best peer, then the next, until one answers with
   * something that verifies (that peer is then proven); a peer whose answer
   * is FORGED_REPLY is banned, one whose channel closed or timed out skipped.
   * @param timeout ms to wait for a peer's channel (see {@link PeerSet.next})
   * @throws the first FORGED_REPLY (else the channel failure) when no peer is
   *   left, NOT_FOUND when none opened, or the peer's own error
   */
  async ask<T> (timeout: number, fn: (peer: Peer) => Promise<T>): Promise<T> {
    const tried = new Set<Peer>()
    let last: VmsError | null = null
    for (;;) {
      let peer: Peer
      try {
        peer = await this.next(tried, timeout)
      } catch (err) {
        throw last ?? err
      }
      tried.add(peer)
      try {
        const out = await fn(peer)
        this.prove(peer)
        return out
      } catch (err) {
        const e = VmsError.from(err)
        if (e.code === 'FORGED_REPLY') this.ban(peer, e.message)
        else if (e.code !== 'CLOSED' && e.code !== 'REQUEST_TIMEOUT') throw e
        if (last === null || (e.code === 'FORGED_REPLY' && last.code !== 'FORGED_REPLY')) last = e
      }
    }
  }

  /**
   * Runs `fn` on every open peer at once (no waiting for new ones); forgers
   * are banned, failed channels skipped, the others proven.
   * @returns the answers that verified (empty when no peer was open or every channel failed)
   * @throws VmsError FORGED_REPLY when none verified and some peer forged;
   *   a peer's own error (not FORGED_REPLY, CLOSED or REQUEST_TIMEOUT)
   */
  async askAll<T> (fn: (peer: Peer) => Promise<T>): Promise<T[]> {
    const out: T[] = []
    let forged: VmsError | null = null
    await Promise.all(this.list.map(async (peer) => {
      try {
        out.push(await fn(peer))
        this.prove(peer)
      } catch (err) {
        const e = VmsError.from(err)
        if (e.code === 'FORGED_REPLY') {
          this.ban(peer, e.message)
          forged = e
        } else if (e.code !== 'CLOSED' && e.code !== 'REQUEST_TIMEOUT') throw e
      }
    }))
    if (out.length === 0 && forged) throw forged
    return out
  }

  /** Closes every channel; `next` fails with CLOSED from then on. */
  close (): void {
    this.closed = true
    for (const p of this.peers.splice(0)) p.rpc.close()
    for (const w of this.waiting.splice(0)) w()
  }

  private remove (peer: Peer): void {
    const i = this.peers.indexOf(peer)
    if (i !== -1) this.peers.splice(i, 1)
  }
}
