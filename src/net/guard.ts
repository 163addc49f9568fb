/**
 * A per-connection guard against peers that abuse the protomux wire
 * protocol. Protomux itself tolerates a lot: it ignores frames for channels
 * that were never opened, unknown control messages and unknown message types
 * (forward compatibility), buffers data for channels that are still pairing,
 * and lets a peer grow its channel table by one id per `open` without bound.
 * A node that serves anyone on the DHT drops such a peer instead.
 *
 * The guard reads every frame of a connection (as protomux does, from the
 * stream's `data` events) and destroys the connection when the peer
 * - sends a frame larger than `maxFrameBytes`;
 * - sends a frame that does not parse as protomux, an unknown control
 *   message, or a batch inside a batch (malformed);
 * - sends a message on a channel it never opened;
 * - sends a message type a known protocol does not have (`messageTypes`);
 * - opens a channel id above `maxChannels` (a peer reuses freed ids, so its
 *   ids stay below its peak number of channels), or opens channels faster
 *   than `openRate` per second after a burst of `maxChannels` (a flood of
 *   opens that get rejected one by one).
 *
 * - spends more host CPU on requests the host rejects than its budget:
 *   the services on the connection report each rejected request's cost
 *   with {@link ConnectionGuard.charge} (a token bucket of `rejectBudgetMs`
 *   ms, refilled at `rejectRefillMsPerSec`, starting at `rejectInitialMs`),
 *   so a peer that sends unsigned or malformed requests gets a bounded share
 *   of the host's CPU.
 *
 * Only that connection is dropped; the node and its other peers carry on.
 * Call {@link guardConnection} first when a connection arrives, before
 * anything attaches protomux to it, so the guard sees each frame first.
 *
 * Frame layout (protomux 3): `uint channel, uint type, payload`. Channel 0
 * carries control messages: 0 batch (`uint channel` then `uint length, frame`
 * pieces; a zero length switches channel), 1 open (`uint id, string protocol,
 * optional buffer id, handshake`), 2 reject, 3 close (`uint id`).
 */

import c from 'compact-encoding'
import type { State } from 'compact-encoding'
import { GOSSIP_PROTOCOL, REPLICA_PROTOCOL, RPC_PROTOCOL } from '../../protocol/index.js'
import { TokenBucket } from './token-bucket.js'

/** Options for {@link guardConnection}. */
export interface GuardOptions {
  /** Largest frame accepted, bytes (default 12 MiB: protomux batches reach 8 MiB plus one message). */
  maxFrameBytes?: number
  /** Highest channel id a peer may open, i.e. channels open at once (default 1024). */
  maxChannels?: number
  /** Channel opens per second allowed on average after the first `maxChannels` (default 100). */
  openRate?: number
  /**
   * Number of message types of each protocol this node speaks; a message of
   * a higher type on such a channel is malformed. Protocols not listed are
   * not checked (default: gossip 1, host RPC 2).
   */
  messageTypes?: Record<string, number>
  /** CPU a peer may cost the host in rejected requests in a burst, ms (default 250). */
  rejectBudgetMs?: number
  /** ...refilled at this many ms per second (default 25: 2.5% of one core). */
  rejectRefillMsPerSec?: number
  /**
   * Credit a new connection starts with, ms (default 100): it grows to the
   * budget as the connection stays, so a flooder that reconnects under fresh
   * keys gets less each time than a peer that stays.
   */
  rejectInitialMs?: number
  /** Called once when the guard drops the connection. */
  ondrop?: (reason: string) => void
}

/** The stream the guard reads: a swarm connection (noise stream). */
export interface GuardedStream {
  on (event: 'data', fn: (data: Uint8Array) => void): unknown
  on (event: 'close', fn: () => void): unknown
  destroy (err?: Error): void
  destroyed?: boolean
}

/** What the guard saw on one connection. */
export interface ConnectionGuard {
  /** Frames read. */
  frames: number
  /** Channels the peer opened (all time). */
  opens: number
  /** Why the connection was dropped, or null. */
  dropped: string | null
  /** CPU charged for rejected requests (all time), ms. */
  rejectedMs: number
  /**
   * Charges the peer for a request the node rejected; drops the connection
   * once the reject budget is spent.
   * @param ms CPU the request cost, ms
   * @returns false when the connection is (now) dropped
   */
  charge (ms: number): boolean
}

/** Reason a guard gives when the reject budget ran out (starts with this). */
export const REJECT_BUDGET_REASON = 'CPU budget for rejected requests spent'

const DEFAULT_MESSAGE_TYPES: Record<string, number> = {
  [GOSSIP_PROTOCOL]: 1,
  [RPC_PROTOCOL]: 2, // protomux-rpc: request, response
  [REPLICA_PROTOCOL]: 2
}

class Malformed extends Error {}

/**
 * Starts guarding a connection.
 * @param stream a swarm connection, before protomux is attached to it
 * @param opts limits, see {@link GuardOptions}
 * @returns counters, and the reason once dropped
 */
export function guardConnection (stream: GuardedStream, opts: GuardOptions = {}): ConnectionGuard {
  const maxFrameBytes = opts.maxFrameBytes ?? 12 * 1024 * 1024
  const maxChannels = opts.maxChannels ?? 1024
  const openRate = opts.openRate ?? 100
  const types = opts.messageTypes ?? DEFAULT_MESSAGE_TYPES
  const budget = opts.rejectBudgetMs ?? 250
  const refill = opts.rejectRefillMsPerSec ?? 25
  const credit = new TokenBucket(budget, refill, opts.rejectInitialMs ?? 100)
  const guard: ConnectionGuard = {
    frames: 0,
    opens: 0,
    dropped: null,
    rejectedMs: 0,
    charge (ms: number): boolean {
      if (guard.dropped) return false
      guard.rejectedMs += ms
      if (!credit.charge(ms)) drop(`${REJECT_BUDGET_REASON} (${guard.rejectedMs.toFixed(0)} ms in all)`)
      return !guard.dropped
    }
  }
  /** Channel ids the peer opened and has not closed -> protocol. */
  const open = new Map<number, string>()
  const opens = new TokenBucket(maxChannels, openRate)

  const drop = (reason: string): void => {
    if (guard.dropped) return
    guard.dropped = reason
    if (opts.ondrop) opts.ondrop(reason)
    if (process.env.VMS_DEBUG) process.stderr.write(`connection guard: dropped a peer: ${reason}\n`)
    stream.destroy(new Error('connection guard: ' + reason))
  }

  const onopen = (state: State): void => {
    const id = c.uint.decode(state)
    const protocol = c.string.decode(state)
    guard.opens++
    if (id === 0) throw new Malformed('open of channel 0')
    if (id > maxChannels) return drop(`more than ${maxChannels} channels`)
    if (!opens.take(1)) return drop('channel open flood')
    open.set(id, protocol)
  }

  const control = (type: number, state: State, nested: boolean): void => {
    switch (type) {
      case 0:
        if (nested) throw new Malformed('batch inside a batch')
        return batch(state)
      case 1:
        return onopen(state)
      case 2:
        c.uint.decode(state) // the peer rejected one of our channels
        return
      case 3:
        open.delete(c.uint.decode(state))
        return
      default:
        throw new Malformed(`unknown control message ${type}`)
    }
  }

  const message = (channel: number, state: State, nested: boolean): void => {
    const type = c.uint.decode(state)
    if (channel === 0) return control(type, state, nested)
    const protocol = open.get(channel)
    if (protocol === undefined) return drop(`message on channel ${channel}, which the peer never opened`)
    const known = types[protocol]
    if (known !== undefined && type >= known) return drop(`unknown message type ${type} on ${protocol}`)
  }

  const batch = (state: State): void => {
    const end = state.end
    let channel = c.uint.decode(state)
    while (state.start < end && !guard.dropped) {
      const len = c.uint.decode(state)
      if (len === 0) {
        channel = c.uint.decode(state)
        continue
      }
      if (state.start + len > end) throw new Malformed('batch piece past the frame')
      const piece: State = { buffer: state.buffer, start: state.start, end: state.start + len }
      message(channel, piece, true)
      state.start += len
    }
  }

  stream.on('data', (data: Uint8Array) => {
    if (guard.dropped || data.byteLength === 0) return
    guard.frames++
    if (data.byteLength > maxFrameBytes) return drop(`frame of ${data.byteLength} bytes (limit ${maxFrameBytes})`)
    try {
      const state: State = { buffer: data, start: 0, end: data.byteLength }
      message(c.uint.decode(state), state, false)
    } catch (err) {
      drop('malformed frame: ' + (err instanceof Malformed ? err.message : 'does not decode'))
    }
  })
  return guard
}
