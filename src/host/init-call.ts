/**
 * The rule for the `init` call of a contract someone else deployed (public
 * hosting): it is the deployer's own signed call, so the init record in the
 * log verifies for the deployer on every watcher.
 */

import { INIT_METHOD, type CallRequest } from '../../protocol/index.js'
import { verifyCall } from '../caller.js'
import { VmsError } from '../errors.js'

/**
 * Checks a deployed contract's init call: present exactly when the contract
 * has `init`; then the deployer's `init` with no arguments, on `contract`,
 * with a valid signature.
 * @param init the signed call, or null
 * @param hasInit whether the contract exports `init`
 * @param deployer the deployer's key
 * @param contract the contract key the call must name
 * @throws VmsError BAD_ARGUMENT, WRONG_CONTRACT, BAD_SIGNATURE
 */
export function checkInitCall (init: CallRequest | null, hasInit: boolean, deployer: Uint8Array, contract: Uint8Array): void {
  if (!hasInit) {
    if (init) throw VmsError.BAD_ARGUMENT('the contract has no init method, but an init call was sent')
    return
  }
  if (!init) throw VmsError.BAD_ARGUMENT('the contract has an init method: the deployer must sign its init call')
  if (!Buffer.from(contract).equals(init.contract)) throw VmsError.WRONG_CONTRACT('the init call names another contract')
  if (!Buffer.from(init.caller).equals(deployer) || init.method !== INIT_METHOD || init.args !== '[]') throw VmsError.BAD_ARGUMENT('the init call must be the deployer\'s init with no arguments')
  if (!verifyCall(init)) throw VmsError.BAD_SIGNATURE('the init call signature does not verify for the deployer')
}
