/**
 * Checks a call request before it is queued: right contract, valid
 * signature, known method, JSON arguments within the size limit. A request
 * that fails is rejected with a clear code and never logged.
 */

import type { CallRequest, LimitsRecord } from '../../protocol/index.js'
import { verifyCall } from '../caller.js'
import { VmsError } from '../errors.js'
import { byteLength, checkArgsJson } from '../json.js'

/**
 * @param req the decoded request
 * @param contract this host's contract key
 * @param methods the contract's method names
 * @param limits the contract limits (maxArgsBytes)
 * @throws VmsError WRONG_CONTRACT, ARGS_TOO_LARGE, BAD_ARGUMENTS, UNKNOWN_METHOD, BAD_SIGNATURE
 */
export function checkRequest (req: CallRequest, contract: Uint8Array, methods: readonly string[], limits: LimitsRecord): void {
  if (!Buffer.from(req.contract).equals(contract)) throw VmsError.WRONG_CONTRACT()
  if (byteLength(req.args) > limits.maxArgsBytes) throw VmsError.ARGS_TOO_LARGE(`arguments are ${byteLength(req.args)} bytes, the limit is ${limits.maxArgsBytes}`)
  if (checkArgsJson(req.args) !== req.args) throw VmsError.BAD_ARGUMENTS('arguments are not canonical JSON (RFC 8785)')
  if (!methods.includes(req.method)) throw VmsError.UNKNOWN_METHOD(`no method ${JSON.stringify(req.method.slice(0, 100))}; methods: ${methods.join(', ')}`)
  if (!verifyCall(req)) throw VmsError.BAD_SIGNATURE()
}
