/**
 * The vms-node version, read once from the project's package.json (found by
 * walking up from this compiled file to the package named `vms-node`).
 */

import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

function readVersion (): string {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'vms-node' && pkg.version) return pkg.version
    } catch {
      // no package.json here (or not JSON): look further up
    }
    const up = path.dirname(dir)
    if (up === dir) return '0.0.0'
    dir = up
  }
}

/** This package's version, e.g. `0.1.0`. */
export const VERSION: string = readVersion()
