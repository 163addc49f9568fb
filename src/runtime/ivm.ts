/**
 * The one place that loads isolated-vm. Each isolated-vm release ships
 * native binaries for a few Node ABIs only (`process.versions.modules`), so
 * package.json installs one optional alias per range and this module picks
 * the one built for the running Node:
 *
 * | Node | ABI | package (alias)                  |
 * |------|-----|----------------------------------|
 * | 20   | 115 | isolated-vm 5.0.4 (isolated-vm-5) |
 * | 22   | 127 | isolated-vm 6.2.0 (isolated-vm-6) |
 * | 24   | 137 | isolated-vm 7.0.1, else 6.2.0     |
 * | 26   | 147 | isolated-vm 7.0.1 (isolated-vm-7) |
 *
 * Import the value (`import ivm from './ivm.js'`) and use it as the
 * isolated-vm namespace, types included (`ivm.Reference`).
 */

import { createRequire } from 'node:module'
import type * as IsolatedVM from 'isolated-vm'
import { VmsError } from '../errors.js'

/** One installed alias and the Node ABIs its prebuilt binaries cover. */
interface IvmBuild { alias: string, abis: readonly number[] }

/** Aliases in order of preference; the first whose ABIs include ours and that loads wins. */
export const IVM_BUILDS: readonly IvmBuild[] = [
  { alias: 'isolated-vm-5', abis: [115] },
  { alias: 'isolated-vm-7', abis: [137, 147] },
  { alias: 'isolated-vm-6', abis: [127, 137] }
]

/** Node majors the project supports and tests (README "Supported Node"). */
export const SUPPORTED_NODE = '20, 22, 24, 26'

const require = createRequire(import.meta.url)

/**
 * Loads the isolated-vm build for the running Node.
 * @param abi Node module ABI (default `process.versions.modules`)
 * @returns the module and its package version
 * @throws VmsError UNSUPPORTED_NODE when no installed build covers this ABI
 *   (the message names the Node version, the ABI and what to do)
 */
export function loadIsolatedVm (abi: number = Number(process.versions.modules)): { ivm: typeof IsolatedVM, version: string } {
  const tried: string[] = []
  for (const b of IVM_BUILDS) {
    if (!b.abis.includes(abi)) continue
    let version: string
    try {
      version = (require(`${b.alias}/package.json`) as { version: string }).version
    } catch {
      tried.push(`${b.alias} is not installed`)
      continue
    }
    try {
      return { ivm: require(b.alias) as typeof IsolatedVM, version }
    } catch (err) {
      tried.push(`${b.alias}@${version} does not load (${(err as Error).message.split('\n')[0]})`)
    }
  }
  throw VmsError.UNSUPPORTED_NODE(`no isolated-vm build for Node ${process.version} (module ABI ${abi}): ` +
    (tried.length ? tried.join('; ') + '; run `npm install` again with this Node' : `supported Node versions are ${SUPPORTED_NODE}`))
}

const loaded = loadIsolatedVm()

/** The isolated-vm namespace for this Node (value and types). */
const ivm: typeof IsolatedVM = loaded.ivm

// eslint-disable-next-line @typescript-eslint/no-redeclare -- one name for the value and its types, as isolated-vm's own `import ivm` gives
declare namespace ivm {
  export type Isolate = IsolatedVM.Isolate
  export type Context = IsolatedVM.Context
  export type Script = IsolatedVM.Script
  export type Reference<T = any> = IsolatedVM.Reference<T>
  export type ExternalCopy<T = any> = IsolatedVM.ExternalCopy<T>
  export type Copy<T> = IsolatedVM.Copy<T>
}
export default ivm

/** Version of the loaded isolated-vm package, e.g. `7.0.1`. */
export const IVM_VERSION: string = loaded.version
