/**
 * `vms-node watch <key> [<key>...]`: follows contracts live, judging every
 * call as it is appended, keeping its replay position in `--storage` so that
 * a restart resumes instead of starting over. Prints one line (with `--json`
 * one object: `event` = `watching`, `verdict`, `fault`, `warning`, `stale`)
 * when a verdict advances, a fault is found, or gossip shows the host signed
 * a longer log than this watcher can replicate (see src/watch/freshness.ts).
 */

import { formatKey } from '../keys.js'
import type { ContractWatch } from '../watch/contract-watch.js'
import { Watcher } from '../watch/watcher.js'
import { describeVerdict, type Verdict } from '../watch/verdict.js'
import type { StaleReport } from '../watch/freshness.js'
import { expectedContract, type AuditCommandOptions } from './verify.js'
import type { Output } from './output.js'
import safetyCatch from 'safety-catch'

/** What {@link runWatch} started; close `watcher` to stop. */
export interface RunningWatch {
  watcher: Watcher
  contracts: ContractWatch[]
}

/**
 * Starts following `keys` and prints verdicts as they advance.
 * @throws VmsError BAD_KEY, BAD_ARGUMENT
 */
export async function runWatch (keys: readonly string[], opts: AuditCommandOptions, out: Output): Promise<RunningWatch> {
  const expected = expectedContract(opts)
  const watcher = new Watcher(opts)
  const contracts: ContractWatch[] = []
  watcher.on('stale', (r: StaleReport) => {
    if (out.json) out.object({ event: 'stale', ...r })
    else out.note(`warning: ${r.contract}: the host signed ${r.known.length} blocks (seen in gossip) but serves this watcher ${r.servedLength}${r.kind === 'diverged' ? ' with another history' : ''}: its verdicts here may be stale`)
  })
  try {
    for (const key of keys) {
      const cw = await watcher.watch(key, { expected, start: false })
      contracts.push(cw)
      let printed = -1
      cw.on('verdict', (v: Verdict) => {
        // JSON: every verdict (a repeat of a length carries the host's signed root for it)
        if (out.json) out.object({ event: 'verdict', ...summary(v), judged: cw.stats.judged, warmup: cw.stats.warmup })
        else if (v.length !== printed) out.line(`${describeVerdict(v)} (judged ${cw.stats.judged}${cw.stats.warmup ? `, warm-up ${cw.stats.warmup}` : ''})`)
        printed = v.length
      })
      cw.on('fault', (v: Verdict) => {
        if (out.json) out.object({ event: 'fault', ...summary(v), fault: v.fault })
        else {
          out.line(describeVerdict(v))
          out.line(JSON.stringify(v.fault, null, 2))
        }
      })
      cw.on('warning', (err: Error) => {
        if (out.json) out.object({ event: 'warning', contract: summaryKey(cw), message: err.message })
        else out.note('warning: ' + err.message)
      })
      cw.start()
      if (out.json) out.object({ event: 'watching', contract: summaryKey(cw), storage: watcher.storage })
      else out.line(`watching ${summaryKey(cw)}`)
    }
  } catch (err) {
    await watcher.close().catch(safetyCatch)
    throw err
  }
  return { watcher, contracts }
}

function summary (v: Verdict): Record<string, unknown> {
  return {
    contract: v.contract,
    verdict: v.verdict,
    length: v.length,
    fork: v.fork,
    treeHash: v.treeHash,
    filesVersion: v.filesVersion,
    filesHash: v.filesHash,
    statement: v.statement,
    runtime: v.runtime
  }
}

function summaryKey (cw: ContractWatch): string {
  return formatKey(cw.key)
}
