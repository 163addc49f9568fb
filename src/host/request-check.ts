/**
 * Checks a call request before it is queued: right contract, valid
 * signature, known method, JSON arguments within the size limit. A request
 * that fails is rejected with a clear code and never logged. The host
 * checks signatures apart (in worker threads), the rest here.
 */

import { callSignable, type CallRequest, type LimitsRecord } from '../../protocol/index.js'
import { verifyCall } from '../caller.js'
import { VmsError } from '../errors.js'
import { byteLength, checkArgsJson } from '../json.js'
import type { SignatureVerifier, VerifyPool } from './verify-pool.js'

/**
 * @param req the decoded request
 * @param contract this host's contract key
 * @param methods the contract's method names
 * @param limits the contract limits (maxArgsBytes)
 * @param opts `signature: false` leaves the signature to the caller (e.g. a {@link VerifyPool})
 * @throws VmsError WRONG_CONTRACT, ARGS_TOO_LARGE, TOO_DEEP, BAD_ARGUMENTS, UNKNOWN_METHOD, BAD_SIGNATURE
 */
export function checkRequest (req: CallRequest, contract: Uint8Array, methods: readonly string[], limits: LimitsRecord, opts: { signature?: boolean } = {}): void {
  if (!Buffer.from(req.contract).equals(contract)) throw VmsError.WRONG_CONTRACT()
  if (byteLength(req.args) > limits.maxArgsBytes) throw VmsError.ARGS_TOO_LARGE(`arguments are ${byteLength(req.args)} bytes, the limit is ${limits.maxArgsBytes}`)
  if (checkArgsJson(req.args, limits.maxDepth) !== req.args) throw VmsError.BAD_ARGUMENTS('arguments are not canonical JSON (RFC 8785)')
  if (!methods.includes(req.method)) throw VmsError.UNKNOWN_METHOD(`no method ${JSON.stringify(req.method.slice(0, 100))}; methods: ${methods.join(', ')}`)
  if (opts.signature !== false && !verifyCall(req)) throw VmsError.BAD_SIGNATURE()
}

/**
 * Admits requests in the order they arrived once their signatures are
 * checked, whatever order the checks (in worker threads) end in: the nonce
 * check that follows needs a caller's pipelined requests in order.
 */
export class OrderedAdmission {
  private readonly verifier: SignatureVerifier
  private tail: Promise<void> = Promise.resolve()

  /** @param verifier checks signatures */
  constructor (verifier: SignatureVerifier) {
    this.verifier = verifier
  }

  /**
   * Runs `admit` once `req`'s signature verified and every request given
   * before it was admitted or refused.
   * @returns what `admit` returned
   * @throws VmsError BAD_SIGNATURE, or what `admit` threw
   */
  async admit<T> (req: CallRequest, admit: () => T): Promise<T> {
    const verified = this.verifier.verify(callSignable(req), req.signature, req.caller)
    const turn = this.tail.then(() => verified).then((ok) => {
      if (!ok) throw VmsError.BAD_SIGNATURE()
      return { value: admit() }
    })
    this.tail = turn.then(noop, noop)
    return (await turn).value
  }
}

function noop (): void {}
