/**
 * Attestation gossip: a protomux channel `vms/gossip/v1` on every swarm
 * connection (hosts, watchers and clients alike). A new valid attestation is
 * stored and forwarded once to every other peer (dedup by hash); a peer that
 * connects gets a bounded, recent slice of what the store holds about the
 * contracts this node wants (catch-up: at most `catchUp`, faults first, see
 * AttestationStore.recent). Bad input costs the sender: an undecodable
 * frame, a bad signature or forged evidence is a strike, and so is passing
 * the per-peer rate limit; at `maxStrikes` the connection is dropped. Frames
 * over `maxFrameBytes` are strikes too.
 *
 * What this node sends is paced per peer below what it accepts itself
 * (`sendBurst` <= `burst`, `sendRate` <= `rate`), in frames of 16: an honest
 * node never passes an honest peer's rate limit, however much its store
 * holds or how fast attestations arrive. Past `maxOutbox` waiting for one
 * peer, the oldest waiting ones are left out (gossip is best effort; the
 * peer gets the newest).
 */

import { EventEmitter } from 'node:events'
import Protomux from 'protomux'
import type { ProtomuxChannel, ProtomuxMessage } from 'protomux'
import c from 'compact-encoding'
import { GOSSIP_PROTOCOL, gossipFrame, type Attestation } from '../../protocol/index.js'
import { BoundedMap } from '../bounded-map.js'
import { TokenBucket } from './token-bucket.js'

/**
 * What gossip needs of the store behind it (src/attest/store.ts's
 * `AttestationStore` is one): checking and keeping attestations, a slice for
 * a new peer, and a dedup id. Gossip itself only moves frames and paces and
 * strikes peers; it knows nothing of what makes an attestation valid.
 */
export interface AttestationPool {
  /**
   * Checks and keeps `a`. `valid` false: a strike for the sender; `fresh`:
   * new here, forward it; `ignored`: not wanted here, no strike, not forwarded.
   */
  add (a: Attestation): { valid: boolean, fresh: boolean, ignored?: boolean }
  /** At most `limit` attestations for a peer that just connected (catch-up). */
  recent (limit: number): Attestation[]
  /** The dedup id of `a` (equal ids: the same attestation). */
  id (a: Attestation): string
}

/** Options for {@link Gossip}. */
export interface GossipOptions {
  /** Largest frame accepted, bytes (default 256 KiB). */
  maxFrameBytes?: number
  /** Attestations per second a peer may send on average (default 200). */
  rate?: number
  /** Attestations a peer may send in a burst (default 1000). */
  burst?: number
  /** Strikes before a peer is dropped (default 3). */
  maxStrikes?: number
  /** Ids remembered for dedup (default 100,000). */
  maxSeen?: number
  /** Attestations sent to a new peer at most (catch-up, default 256). */
  catchUp?: number
  /** Attestations sent to one peer per second on average (default 100). */
  sendRate?: number
  /** ...and in a burst (default 250). */
  sendBurst?: number
  /** Attestations waiting for one peer at most (default 1,000). */
  maxOutbox?: number
}

/** Per-connection counters (also shown by the TUI). */
export interface GossipPeer {
  /** Remote noise public key. */
  publicKey: Buffer
  received: number
  sent: number
  /** Attestations left out of what this node sent the peer (its outbox overflowed). */
  skipped: number
  strikes: number
  /** What the peer may still send (`rate`, `burst`). */
  readonly budget: TokenBucket
}

interface Link {
  peer: GossipPeer
  channel: ProtomuxChannel
  message: ProtomuxMessage
  stream: { destroy (err?: Error): void }
  /** Waiting to be sent, oldest first. */
  outbox: Attestation[]
  /** What this node may still send the peer (`sendRate`, `sendBurst`). */
  pace: TokenBucket
  timer: NodeJS.Timeout | null
}

/**
 * Events: `attestation` (Attestation, from: Buffer | null) for every fresh
 * valid attestation; `strike` (GossipPeer, reason: string); `drop` (GossipPeer).
 */
export class Gossip<S extends AttestationPool = AttestationPool> extends EventEmitter {
  /** The store behind this gossip (its full type, for the node that owns both). */
  readonly store: S
  private readonly links = new Set<Link>()
  private readonly seen: BoundedMap<string, true>
  private readonly opts: Required<GossipOptions>

  /**
   * @param store where attestations are checked and kept (see {@link AttestationPool})
   * @param opts limits, see {@link GossipOptions}
   */
  constructor (store: S, opts: GossipOptions = {}) {
    super()
    this.store = store
    this.seen = new BoundedMap(opts.maxSeen ?? 100_000)
    this.opts = {
      maxFrameBytes: opts.maxFrameBytes ?? 256 * 1024,
      rate: opts.rate ?? 200,
      burst: opts.burst ?? 1000,
      maxStrikes: opts.maxStrikes ?? 3,
      maxSeen: opts.maxSeen ?? 100_000,
      catchUp: opts.catchUp ?? 256,
      sendRate: opts.sendRate ?? 100,
      sendBurst: opts.sendBurst ?? 250,
      maxOutbox: opts.maxOutbox ?? 1000
    }
  }

  /** Connected gossip peers. */
  get peers (): GossipPeer[] {
    return [...this.links].map((l) => l.peer)
  }

  /**
   * Opens the gossip channel on a swarm connection.
   * @param stream the connection (noise stream with `remotePublicKey`)
   */
  attach (stream: { remotePublicKey: Buffer, destroy (err?: Error): void, on (ev: string, fn: () => void): unknown }): void {
    const mux = Protomux.from(stream)
    const peer: GossipPeer = { publicKey: stream.remotePublicKey, received: 0, sent: 0, skipped: 0, strikes: 0, budget: new TokenBucket(this.opts.burst, this.opts.rate) }
    let link: Link | null = null
    const channel = mux.createChannel({
      protocol: GOSSIP_PROTOCOL,
      unique: true,
      onopen: () => {
        if (!link) return
        this.links.add(link)
        this.sendTo(link, this.store.recent(this.opts.catchUp))
      },
      onclose: () => {
        if (!link) return
        this.links.delete(link)
        if (link.timer) clearTimeout(link.timer)
        link.timer = null
        link.outbox = []
      }
    })
    if (!channel) return
    const message = channel.addMessage({ encoding: c.raw, onmessage: (raw: Uint8Array) => { if (link) this.onframe(link, raw) } })
    link = { peer, channel, message, stream, outbox: [], pace: new TokenBucket(this.opts.sendBurst, this.opts.sendRate), timer: null }
    channel.open()
  }

  /**
   * Stores a local attestation and sends it to every peer.
   * @returns false when the store rejected it (invalid)
   */
  publish (a: Attestation): boolean {
    const res = this.store.add(a)
    if (!res.valid) return false
    this.remember(this.store.id(a))
    this.broadcast([a], null)
    return true
  }

  /** Closes every gossip channel. */
  close (): void {
    for (const l of this.links) {
      if (l.timer) clearTimeout(l.timer)
      l.timer = null
      l.channel.close()
    }
    this.links.clear()
  }

  private onframe (link: Link, raw: Uint8Array): void {
    const peer = link.peer
    if (raw.byteLength > this.opts.maxFrameBytes) return this.strike(link, `frame of ${raw.byteLength} bytes`)
    let list: Attestation[]
    try {
      list = c.decode(gossipFrame, raw).attestations
    } catch {
      return this.strike(link, 'undecodable frame')
    }
    if (!peer.budget.take(list.length)) return this.strike(link, 'rate limit')
    const fresh: Attestation[] = []
    for (const a of list) {
      peer.received++
      const id = this.store.id(a)
      if (this.seen.has(id)) continue
      const res = this.store.add(a)
      if (res.ignored) continue
      if (!res.valid) {
        this.strike(link, 'invalid attestation')
        if (link.channel.closed) return
        continue
      }
      this.remember(id)
      if (res.fresh) {
        fresh.push(a)
        this.emit('attestation', a, peer.publicKey)
      }
    }
    if (fresh.length > 0) this.broadcast(fresh, link)
  }

  private broadcast (list: Attestation[], from: Link | null): void {
    for (const l of this.links) if (l !== from) this.sendTo(l, list)
  }

  /** Queues attestations for one peer and sends what its pace allows now. */
  private sendTo (link: Link, list: Attestation[]): void {
    if (list.length === 0) return
    link.outbox.push(...list)
    const over = link.outbox.length - this.opts.maxOutbox
    if (over > 0) {
      link.outbox.splice(0, over)
      link.peer.skipped += over
    }
    this.pump(link)
  }

  /** Sends from a peer's outbox in frames of 16 as its tokens allow; comes back when more are due. */
  private pump (link: Link): void {
    if (link.channel.closed || !this.links.has(link)) return
    while (link.outbox.length > 0 && link.pace.tokens() >= 1) {
      const chunk = link.outbox.splice(0, Math.min(16, Math.floor(link.pace.tokens())))
      link.pace.take(chunk.length)
      link.message.send(c.encode(gossipFrame, { attestations: chunk }))
      link.peer.sent += chunk.length
    }
    if (link.outbox.length > 0 && !link.timer) {
      const wait = Math.max(10, Math.ceil((Math.min(16, link.outbox.length) - link.pace.tokens()) * 1000 / this.opts.sendRate))
      link.timer = setTimeout(() => {
        link.timer = null
        this.pump(link)
      }, wait)
      link.timer.unref()
    }
  }

  private strike (link: Link, reason: string): void {
    link.peer.strikes++
    this.emit('strike', link.peer, reason)
    if (link.peer.strikes >= this.opts.maxStrikes) {
      this.links.delete(link)
      this.emit('drop', link.peer)
      link.stream.destroy(new Error('gossip peer dropped: ' + reason))
    }
  }

  private remember (id: string): void {
    this.seen.set(id, true)
  }
}
