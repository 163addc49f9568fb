/**
 * The rule for the `init` call of a contract someone else deployed (public
 * hosting): it is the deployer's own signed call, so the init record in the
 * log verifies for the deployer on every watcher. And the trial run of
 * `init` before anything is deployed ({@link tryInit}).
 */

import { INIT_METHOD, type CallRequest } from '../../protocol/index.js'
import { verifyCall } from '../caller.js'
import { randomBytes } from '../crypto.js'
import { VmsError } from '../errors.js'
import { formatKey } from '../keys.js'
import { MemoryFiles } from '../runtime/memory-files.js'
import type { Limits, SandboxFactory } from '../runtime/types.js'

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

/**
 * Deploy = genesis + init: runs `init` once in a scratch sandbox over empty
 * files (what the drive holds at deploy), so an `init` that throws keeps
 * nothing: no genesis is written and the next start deploys afresh.
 * @param factory makes the scratch sandbox (closed afterwards)
 * @param c the contract source and limits, its name, the deployer's key (the caller of `init`), whether oracles record
 * @returns whether the contract has `init` (false: nothing was run)
 * @throws VmsError CONTRACT_INIT with init's error message
 */
export async function tryInit (factory: SandboxFactory, c: { source: string, limits: Limits, name: string, deployer: Uint8Array, oracles: boolean }): Promise<boolean> {
  const scratch = await factory(c.source, { limits: c.limits, filename: c.name + '.js' })
  try {
    if (!scratch.methods.includes(INIT_METHOD)) return false
    const out = await scratch.call({
      method: INIT_METHOD,
      argsJson: '[]',
      callerId: formatKey(c.deployer),
      timestamp: Date.now(),
      seed: randomBytes(32),
      files: new MemoryFiles(),
      oracle: c.oracles ? { mode: 'record' } : { mode: 'off' }
    })
    if (!out.ok) throw VmsError.CONTRACT_INIT(`init failed, nothing was deployed: ${out.error?.message ?? 'no error'}`)
    return true
  } finally {
    await scratch.close()
  }
}
