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

/** What a host serves for one contract. */
export interface RpcTarget {
  info (): ContractInfo
  call (req: CallRequest): Promise<CallResponse>
  /**
   * The host's signed root statement of its log at `length` (0: as it is now).
   * @throws VmsError BAD_ARGUMENT when `length` is past the log
   */
  root (length?: number): Promise<RootStatement>
  /** The log's signer (manifest fields that hash to the contract key). */
  signer (): SignerRecord
  /**
   * Inclusion proof of block `index` in the log's tree at `length`.
   * @throws VmsError BAD_ARGUMENT when `index >= length` or `length` is past the log
   */
  prove (index: number, length: number): Promise<BlockProof>
}

/** The RPC methods a host serves. */
export type RpcMethod = 'info' | 'root' | 'call'

/**
 * Serves the contracts `lookup` finds on a connection (host side).
 * @param stream a swarm connection (noise stream)
 * @param lookup contract key -> target, or null when not hosted here
 * @param onrequest told the method of every request that decoded, before it runs
 */
export function serveRpc (stream: unknown, lookup: (key: Buffer) => RpcTarget | null, onrequest: (method: RpcMethod) => void = () => {}): void {
  const mux = Protomux.from(stream)
  mux.pair({ protocol: RPC_PROTOCOL }, (id) => {
    if (!id) return
    const target = lookup(Buffer.from(id))
    if (target) openRpc(mux, Buffer.from(id), target, onrequest)
  })
}

function openRpc (mux: Protomux, id: Buffer, target: RpcTarget, onrequest: (method: RpcMethod) => void): void {
  let rpc: ProtomuxRPC
  try {
    rpc = new ProtomuxRPC(mux, { id, protocol: RPC_PROTOCOL })
  } catch {
    return // a channel for this contract is already open on this connection
  }
  rpc.respond('info', { requestEncoding: c.raw, responseEncoding: provenInfo }, async (): Promise<ProvenInfo> => {
    onrequest('info')
    const info = target.info()
    const root = await target.root(0)
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
  rpc.respond('call', { requestEncoding: c.raw, responseEncoding: provenCallReply }, async (raw: Uint8Array): Promise<ProvenCallReply> => {
    let req: CallRequest
    try {
      req = c.decode(callRequest, raw)
    } catch (err) {
      return { accepted: false, error: VmsError.BAD_REQUEST(`call request does not decode: ${(err as Error).message}`).toInfo() }
    }
    onrequest('call')
    let response: CallResponse
    try {
      response = await target.call(req)
    } catch (err) {
      return { accepted: false, error: VmsError.from(err).toInfo() }
    }
    // the call is logged: a failure to prove it is the host's own error, never a rejection
    return { accepted: true, response, signer: target.signer(), proof: await target.prove(response.index, response.root.length) }
  })
}

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
    this.rpc = new ProtomuxRPC(stream, { id: contract, protocol: RPC_PROTOCOL })
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
