/**
 * `vms-node seed <key> [<key>...]`: keeps contracts available without
 * auditing them (src/watch/seeder.ts): replicates and serves each one's log
 * and files, and hands over the newest host-signed root it keeps. Prints one
 * line per event (with `--json` one object: `event` = `seeding`, `root`,
 * `complete`, `fork`, `warning`). Persistent under `--storage`.
 */

import safetyCatch from 'safety-catch'
import { formatKey } from '../keys.js'
import type { NetOptions } from '../net/swarm.js'
import { Seeder, type SeededContract } from '../watch/seeder.js'
import type { RootStatement } from '../../protocol/index.js'
import type { ForkFault } from '../watch/fork.js'
import type { Output } from './output.js'

/** Options of `seed`. */
export interface SeedCommandOptions extends NetOptions {
  /** Seeder storage (default: a temporary folder). */
  storage?: string
  /** ms to wait for one root answer (default 10,000). */
  timeout?: number
}

/**
 * Starts seeding `keys` and prints what happens; close `seeder` to stop.
 * @throws VmsError BAD_KEY
 */
export async function runSeed (keys: readonly string[], opts: SeedCommandOptions, out: Output): Promise<{ seeder: Seeder, contracts: SeededContract[] }> {
  const seeder = new Seeder(opts)
  const contracts: SeededContract[] = []
  try {
    for (const key of keys) {
      const sc = await seeder.seed(key)
      contracts.push(sc)
      const contract = formatKey(sc.key)
      sc.on('root', (s: RootStatement) => {
        if (out.json) out.object({ event: 'root', contract, length: s.length, fork: s.fork })
        else out.line(`${contract}: host-signed root of length ${s.length} kept`)
      })
      sc.on('complete', (c: { length: number, filesLength: number, blobsLength: number }) => {
        if (out.json) out.object({ event: 'complete', contract, ...c })
        else out.line(`${contract}: holding every block: log ${c.length}, files ${c.filesLength}, blobs ${c.blobsLength}`)
      })
      sc.on('fork', (f: ForkFault) => {
        if (out.json) out.object({ event: 'fork', contract, message: f.draft.message, statements: f.statements })
        else out.note(`fork: ${contract}: ${f.draft.message}`)
      })
      sc.on('warning', (err: Error) => {
        if (out.json) out.object({ event: 'warning', contract, message: err.message })
        else out.note('warning: ' + err.message)
      })
      if (out.json) out.object({ event: 'seeding', contract, storage: seeder.storage })
      else out.line(`seeding ${contract}`)
    }
  } catch (err) {
    await seeder.close().catch(safetyCatch)
    throw err
  }
  return { seeder, contracts }
}
