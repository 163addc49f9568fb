/**
 * What the fenced Holepunch internals (holepunch-internals.ts, and the
 * files of this folder it re-exports) share: the versions they were
 * written against, and the error that says a field moved.
 */

import { createRequire } from 'node:module'
import { VmsError } from '../../errors.js'

/** The versions whose internals this module was written against. */
export const TESTED = { hypercore: '11.37.1', hyperbee: '2.27.3' }

/** `require` from here: resolves the Holepunch modules as this package does. */
export const localRequire = createRequire(import.meta.url)

/** The installed version of `name` (resolved from `from`, default here), or 'unknown'. */
function versionOf (name: string, from?: string): string {
  try {
    const req = from ? createRequire(localRequire.resolve(from)) : localRequire
    const main = req.resolve(name)
    const at = main.lastIndexOf('/node_modules/' + name + '/')
    const pkg = main.slice(0, at + '/node_modules/'.length + name.length) + '/package.json'
    return String((req(pkg) as { version?: string }).version ?? 'unknown')
  } catch {
    // unknown is only used in messages: a missing package.json must not hide the real error
    return 'unknown'
  }
}

/**
 * The error for a private field that is not where it was.
 * @param module the module that moved it; @param what the field; @param from the module `module` is resolved from (default: this package)
 * @returns VmsError INTERNAL naming the module, its installed version and the version tested
 */
export function moved (module: string, what: string, from?: string): Error {
  return VmsError.INTERNAL(`${module} ${versionOf(module, from)} moved ${what} (vms-node was written against ${module} ${TESTED[module as keyof typeof TESTED] ?? '?'}; see src/log/holepunch-internals.ts)`)
}
