/**
 * The host RPC over protomux-rpc. One channel per contract per connection,
 * protocol `vms/rpc/v2`, channel id = contract key. Hosts open channels
 * lazily when a peer asks for one of their contracts (protomux `pair`), so a
 * host of many contracts pays nothing for the ones a peer does not use.
 *
 * Methods: `info` (empty -> ProvenInfo: the info plus the genesis block
 * proven under the host's current signed root), `root` (uint length, 0 for the
 * current one -> RootStatement: the host's signed statement of its log's
 * length, fork and tree hash, what watchers keep to prove forks) and `call` (CallRequest ->
 * ProvenCallReply: the response plus the log signer and an inclusion proof
 * of the call's record block under the response's root, protocol/proof.ts). Requests are decoded by the handler itself, so a malformed
 * frame gets a BAD_REQUEST reply and the channel keeps serving.
 */

import ProtomuxRPC from 'protomux-rpc'
import Protomux from 'protomux'
import c from 'compact-encoding'
import { RPC_PROTOCOL, callRequest, provenCallReply, provenInfo, rootStatement, type BlockProof, type CallRequest, type CallResponse, type ContractInfo, type ProvenCallReply, type ProvenInfo, type RootStatement, type SignerRecord } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import { headStatement, type HeadStatement } from '../../protocol/head.js'

/** What a host serves for one contract. */
export interface RpcTarget {
  info (): ContractInfo
  /**
   * Runs a call. `cost.ms` collects the CPU its checks spent (ms), charged
   * to the peer when the call is rejected.
   */
  call (req: CallRequest, cost?: { ms: number }): Promise<CallResponse>
  /** Largest call request frame decoded, bytes; larger ones are refused unread (default: no limit here). */
  readonly maxRequestBytes?: number
  /**
   * The host's signed root statement of its log at `length` (0: as it is now).
   * @throws VmsError BAD_ARGUMENT when `length` is past the log
   */
  root (length?: number): Promise<RootStatement>
  /**
   * The host's signed head pair (log root + files drive head), signed only
   * between group commits (protocol/head.ts). Optional: a target without it
   * answers `head` with UNKNOWN_METHOD.
   */
  head? (): Promise<HeadStatement>
  /** The log's signer (manifest fields that hash to the contract key). */
  signer (): SignerRecord
  /**
   * Inclusion proof of block `index` in the log's tree at `length`.
   * @throws VmsError BAD_ARGUMENT when `index >= length` or `length` is past the log
   */
  prove (index: number, length: number): Promise<BlockProof>
}

/** The RPC methods a host serves. */
export type RpcMethod = 'info' | 'root' | 'call' | 'head'

/**
 * Told the CPU (ms) a rejected call request cost the host, and its error
 * code (see ConnectionGuard.charge in guard.ts).
 */
export type OnReject = (ms: number, code: string) => void

/** Rejections that are the host's state, not the peer's doing: never charged. */
const UNCHARGED = new Set(['HOST_BUSY', 'CLOSED', 'INTERNAL'])

/**
 * Serves the contracts `lookup` finds on a connection (host side).
 * @param stream a swarm connection (noise stream)
 * @param lookup contract key -> target, or null when not hosted here
 * @param onrequest told the method of every request that decoded, before it runs
 * @param onreject told the CPU each rejected call request cost (size, decode, signature, argument checks)
 */
export function serveRpc (stream: unknown, lookup: (key: Buffer) => RpcTarget | null, onrequest: (method: RpcMethod) => void = () => {}, onreject: OnReject = () => {}): void {
  const mux = Protomux.from(stream)
  mux.pair({ protocol: RPC_PROTOCOL }, (id) => {
    if (!id) return
    const target = lookup(Buffer.from(id))
    if (target) openRpc(mux, Buffer.from(id), target, onrequest, onreject)
  })
}

/** Bytes of call requests a connection may have in flight per contract channel (32 MiB); past it calls get HOST_BUSY unread. */
export const MAX_CALL_BYTES_IN_FLIGHT = 32 * 1024 * 1024

function openRpc (mux: Protomux, id: Buffer, target: RpcTarget, onrequest: (method: RpcMethod) => void, onreject: OnReject): void {
  let inFlight = 0
  let rpc: ProtomuxRPC
  try {
    rpc = new ProtomuxRPC(mux, { id, protocol: RPC_PROTOCOL })
  } catch {
    return // a channel for this contract is already open on this connection
  }
  rpc.respond('info', { requestEncoding: c.raw, responseEncoding: provenInfo }, async (): Promise<ProvenInfo> => {
    onrequest('info')
    const root = await target.root(0) // first: it reopens a contract closed for idleness, whose info() then reads the open log
    const info = target.info()
    return { info, genesis: { signer: target.signer(), root, proof: await target.prove(0, root.length) } }
  })
  rpc.respond('root', { requestEncoding: c.raw, responseEncoding: rootStatement }, (raw: Uint8Array) => {
    let length = 0
    try {
      if (raw.byteLength > 0) length = c.decode(c.uint, raw)
    } catch {
      throw VmsError.BAD_REQUEST('root request does not decode')
    }
    onrequest('root')
    return target.root(length)
  })
  // head: the signed (log root, files head) pair a watcher audits the drive head with
  rpc.respond('head', { requestEncoding: c.raw, responseEncoding: headStatement }, async () => {
    onrequest('head')
    if (!target.head) throw VmsError.UNKNOWN_METHOD('this host signs no head statements')
    return await target.head()
  })
  rpc.respond('call', { requestEncoding: c.raw, responseEncoding: provenCallReply }, async (raw: Uint8Array): Promise<ProvenCallReply> => {
    // sizes first, then the binary decode; the host checks the signature before it parses any JSON
    const t0 = performance.now()
    const cost = { ms: 0 }
    const reject = (err: VmsError): ProvenCallReply => {
      if (!UNCHARGED.has(err.code)) onreject(cost.ms, err.code)
      return { accepted: false, error: err.toInfo() }
    }
    if (target.maxRequestBytes !== undefined && raw.byteLength > target.maxRequestBytes) {
      cost.ms += performance.now() - t0
      return reject(VmsError.ARGS_TOO_LARGE(`call request of ${raw.byteLength} bytes, the limit is ${target.maxRequestBytes}`))
    }
    if (inFlight + raw.byteLength > MAX_CALL_BYTES_IN_FLIGHT) {
      return reject(VmsError.HOST_BUSY(`more than ${MAX_CALL_BYTES_IN_FLIGHT} bytes of calls in flight on this connection`))
    }
    let req: CallRequest
    try {
      req = c.decode(callRequest, raw)
    } catch (err) {
      cost.ms += performance.now() - t0
      return reject(VmsError.BAD_REQUEST(`call request does not decode: ${(err as Error).message}`))
    }
    cost.ms += performance.now() - t0
    onrequest('call')
    inFlight += raw.byteLength
    let response: CallResponse
    try {
      response = await target.call(req, cost)
    } catch (err) {
      return reject(VmsError.from(err))
    } finally {
      inFlight -= raw.byteLength
    }
    // the call is logged: a failure to prove it is the host's own error, never a rejection
    return { accepted: true, response, signer: target.signer(), proof: await target.prove(response.index, response.root.length) }
  })
}

/** Channel handshake of an asker's end (hosts send none): an asker whose peer sent it too closes the channel. */
const ASKER_HANDSHAKE = Buffer.from([0x61])

/**
 * The caller's side of one contract's RPC channel on a connection.
 */
export class RpcClient {
  readonly rpc: ProtomuxRPC

  /**
   * @param stream a swarm connection to the host
   * @param contract the contract key (channel id)
   */
  constructor (stream: unknown, contract: Uint8Array) {
    this.rpc = new ProtomuxRPC(stream, { id: contract, protocol: RPC_PROTOCOL, handshake: ASKER_HANDSHAKE, handshakeEncoding: c.raw })
    // two askers (a client and a serving watcher) open the same channel and pair: neither is a host, so
    // neither keeps it (closed before anyone sees it open; a host's end sends no such handshake)
    this.rpc.on('open', (hs: unknown) => {
      if (hs instanceof Uint8Array && hs.byteLength === 1 && hs[0] === ASKER_HANDSHAKE[0]) queueMicrotask(() => this.rpc.destroy())
    })
  }

  /**
   * Asks for the contract's info with its proven genesis (unchecked here:
   * see attest/reply.ts `verifyInfo`).
   * @param timeout ms
   * @throws VmsError REQUEST_TIMEOUT, CLOSED
   */
  async info (timeout: number): Promise<ProvenInfo> {
    return await this.request<ProvenInfo>('info', Buffer.alloc(0), provenInfo, timeout)
  }

  /**
   * Asks for the host's signed root statement of its log.
   * @param timeout ms
   * @param length the log length to sign (default 0: the current length)
   * @throws VmsError REQUEST_TIMEOUT, CLOSED, or the host's error (e.g. BAD_ARGUMENT)
   */
  async root (timeout: number, length = 0): Promise<RootStatement> {
    return await this.request<RootStatement>('root', c.encode(c.uint, length), rootStatement, timeout)
  }

  /**
   * Asks for the host's signed head pair (see protocol/head.ts).
   * @param timeout ms
   * @throws VmsError REQUEST_TIMEOUT, CLOSED, or the host's error
   */
  async head (timeout: number): Promise<HeadStatement> {
    return await this.request<HeadStatement>('head', Buffer.alloc(0), headStatement, timeout)
  }

  /**
   * Sends a signed call.
   * @param timeout ms
   * @returns the reply (accepted with a receipt and its proof, unchecked
   *   here: see attest/reply.ts `verifyCallReply`; or rejected with an error)
   * @throws VmsError REQUEST_TIMEOUT, CLOSED
   */
  async call (req: CallRequest, timeout: number): Promise<ProvenCallReply> {
    return await this.request<ProvenCallReply>('call', c.encode(callRequest, req), provenCallReply, timeout)
  }

  private async request<T> (method: string, value: Uint8Array, enc: unknown, timeout: number): Promise<T> {
    try {
      return await this.rpc.request<T>(method, value, { requestEncoding: c.raw, responseEncoding: enc, timeout })
    } catch (err) {
      const e = err as { code?: string, message?: string, cause?: { code?: string, message?: string } }
      if (e.code === 'REQUEST_ERROR' && e.cause && typeof e.cause.code === 'string' && typeof e.cause.message === 'string') {
        throw VmsError.from(e.cause) // the host's own error, as it threw it
      }
      if (e.code === 'TIMEOUT_EXCEEDED') throw VmsError.REQUEST_TIMEOUT(`no answer to ${method} in ${timeout} ms`)
      if (e.code === 'CHANNEL_CLOSED' || e.code === 'CHANNEL_DESTROYED') throw VmsError.CLOSED('connection to the host closed')
      throw VmsError.from(err)
    }
  }

  /** Closes the channel. */
  close (): void {
    this.rpc.destroy()
  }
}
