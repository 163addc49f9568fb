/**
 * Checks a call request before it is queued, cheapest first, so that a
 * request nobody signed costs the host next to nothing:
 * 1. sizes and plain comparisons: right contract, arguments within
 *    `maxArgsBytes`, known method ({@link checkRequestCheap});
 * 2. the caller's signature over the request's binary body (tag
 *    `vms/call/v1`, contract, caller, nonce, method, argument text): no JSON
 *    is parsed to check it, and watchers check the very same bytes;
 * 3. only then the arguments are parsed and must be canonical JSON
 *    ({@link checkRequestArgs}).
 * A request that fails is rejected with a clear code and never logged. The
 * host checks signatures apart (in worker threads, {@link OrderedAdmission}),
 * and counts the CPU each check spent in a {@link RequestCost}, so that the
 * network layer can charge the peer for the requests it gets rejected.
 */

import { callSignable, type CallRequest, type LimitsRecord } from '../../protocol/index.js'
import { verifyCall } from '../caller.js'
import { VmsError } from '../errors.js'
import { noop } from '../noop.js'
import { checkArgsJson } from '../json.js'
import { checkJsonDepth } from '../json-depth.js'
import type { SignatureVerifier } from '../sig/verify-pool.js'

/** CPU a request's checks spent on this host, ms (main thread measured, off-thread work estimated). */
export interface RequestCost {
  ms: number
}

/** Longest method name accepted, UTF-16 units (longer ones are unknown anyway). */
export const MAX_METHOD_LENGTH = 256

/**
 * Bytes of a call request frame besides its argument text: keys, nonce,
 * method name, length prefixes and signature (a frame over
 * `maxArgsBytes + REQUEST_OVERHEAD_BYTES` is refused before it is decoded).
 */
export const REQUEST_OVERHEAD_BYTES = 32 + 32 + 9 + 5 + MAX_METHOD_LENGTH * 3 + 5 + 64

/**
 * Estimated cost of one ed25519 check of `bytes` in a worker thread plus its
 * copy there, ms (SHA-512 runs at several hundred MB/s; this charges
 * 1 ms per 256 KiB, plus 0.05 ms).
 */
export function verifyCostMs (bytes: number): number {
  return 0.05 + bytes / (256 * 1024)
}

/**
 * The cheap checks: plain comparisons and sizes, no parsing.
 * @param req the decoded request
 * @param contract this host's contract key
 * @param methods the contract's method names
 * @param limits the contract limits (maxArgsBytes, maxDepth)
 * @throws VmsError WRONG_CONTRACT, ARGS_TOO_LARGE, UNKNOWN_METHOD, TOO_DEEP
 */
export function checkRequestCheap (req: CallRequest, contract: Uint8Array, methods: readonly string[], limits: LimitsRecord): void {
  if (!Buffer.from(req.contract).equals(contract)) throw VmsError.WRONG_CONTRACT()
  // a UTF-16 length over the limit is over it in UTF-8 too; only then count bytes
  if (req.args.length > limits.maxArgsBytes || Buffer.byteLength(req.args, 'utf8') > limits.maxArgsBytes) {
    throw VmsError.ARGS_TOO_LARGE(`arguments are ${Buffer.byteLength(req.args, 'utf8')} bytes, the limit is ${limits.maxArgsBytes}`)
  }
  if (req.method.length > MAX_METHOD_LENGTH || !methods.includes(req.method)) {
    throw VmsError.UNKNOWN_METHOD(`no method ${JSON.stringify(req.method.slice(0, 100))}; methods: ${methods.join(', ')}`)
  }
  // one linear scan of the text, no parsing and no recursion: deep arguments never reach JSON.parse
  checkJsonDepth(req.args, limits.maxDepth, 'the arguments')
}

/**
 * The argument check, after the signature: a JSON array in canonical form
 * (RFC 8785), nested at most `limits.maxDepth` deep.
 * @throws VmsError BAD_ARGUMENTS, TOO_DEEP
 */
export function checkRequestArgs (req: CallRequest, limits: Pick<LimitsRecord, 'maxDepth'>): void {
  if (checkArgsJson(req.args, limits.maxDepth) !== req.args) throw VmsError.BAD_ARGUMENTS('arguments are not canonical JSON (RFC 8785)')
}

/**
 * Every check in order: cheap ones, the signature (on this thread), the arguments.
 * @param req the decoded request
 * @param contract this host's contract key
 * @param methods the contract's method names
 * @param limits the contract limits (maxArgsBytes)
 * @param opts `signature: false` leaves the signature to the caller (e.g. a {@link VerifyPool})
 * @throws VmsError WRONG_CONTRACT, ARGS_TOO_LARGE, TOO_DEEP, UNKNOWN_METHOD, BAD_SIGNATURE, BAD_ARGUMENTS
 */
export function checkRequest (req: CallRequest, contract: Uint8Array, methods: readonly string[], limits: LimitsRecord, opts: { signature?: boolean } = {}): void {
  checkRequestCheap(req, contract, methods, limits)
  if (opts.signature !== false && !verifyCall(req)) throw VmsError.BAD_SIGNATURE()
  checkRequestArgs(req, limits)
}

/**
 * Admits requests in the order they arrived once their signatures are
 * checked, whatever order the checks (in worker threads) end in: the nonce
 * check that follows needs a caller's pipelined requests in order. The
 * arguments of a request are parsed only once its signature verified.
 */
export class OrderedAdmission {
  private readonly verifier: SignatureVerifier
  private tail: Promise<void> = Promise.resolve()

  /** @param verifier checks signatures */
  constructor (verifier: SignatureVerifier) {
    this.verifier = verifier
  }

  /**
   * Runs `admit` once `req`'s signature verified, its arguments passed
   * {@link checkRequestArgs}, and every request given before it was admitted
   * or refused.
   * @param limits the contract limits the arguments are parsed under (maxDepth)
   * @param cost gets the CPU spent on the signature (estimated) and the argument check (measured)
   * @returns what `admit` returned
   * @throws VmsError BAD_SIGNATURE, BAD_ARGUMENTS, TOO_DEEP, or what `admit` threw
   */
  async admit<T> (req: CallRequest, limits: Pick<LimitsRecord, 'maxDepth'>, admit: () => T, cost: RequestCost = { ms: 0 }): Promise<T> {
    const t0 = performance.now()
    const signable = callSignable(req)
    cost.ms += performance.now() - t0 + verifyCostMs(signable.byteLength)
    const verified = this.verifier.verify(signable, req.signature, req.caller)
    const turn = this.tail.then(() => verified).then((ok) => {
      if (!ok) throw VmsError.BAD_SIGNATURE()
      const t1 = performance.now()
      try {
        checkRequestArgs(req, limits)
      } finally {
        cost.ms += performance.now() - t1
      }
      return { value: admit() }
    })
    this.tail = turn.then(noop, noop)
    return (await turn).value
  }
}
