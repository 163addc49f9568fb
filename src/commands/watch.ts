/**
 * `vms-node watch <key> [<key>...]`: follows contracts live, judging every
 * call as it is appended, keeping its replay position in `--storage` so that
 * a restart resumes instead of starting over. Prints one line (with `--json`
 * one object: `event` = `watching`, `verdict`, `fault`, `warning`, `stale`)
 * when a verdict advances, a fault is found, or gossip shows the host signed
 * a longer log than this watcher can replicate (see src/watch/freshness.ts).
 */

import os from 'node:os'
import path from 'node:path'
import { formatKey } from '../keys.js'
import { loadIdentity } from '../identity.js'
import { createSwarm } from '../net/swarm.js'
import type { ContractWatch } from '../watch/contract-watch.js'
import { Watcher } from '../watch/watcher.js'
import { describeVerdict, type Verdict } from '../watch/verdict.js'
import type { StaleReport } from '../watch/freshness.js'
import type { AuditCommandOptions } from './verify.js'
import { isSourceMismatch, mismatchLines, readExpectedSource } from './source-mismatch.js'
import type { Output } from './output.js'
import { describeExit, sharedSandboxProcesses, type ChildExit } from '../runtime/sandbox-process.js'
import safetyCatch from 'safety-catch'

/** What {@link runWatch} started; close `watcher` to stop. */
export interface RunningWatch {
  watcher: Watcher
  contracts: ContractWatch[]
}

/**
 * The watcher identity used without `--storage` and `--identity`:
 * `$VMS_NODE_WATCHER_IDENTITY`, else `~/.vms-node/watcher.json`, so a watcher
 * signs with one key across runs (its attestations add up instead of
 * looking like a new watcher every time).
 */
export function defaultWatcherIdentityPath (): string {
  return process.env.VMS_NODE_WATCHER_IDENTITY || path.join(os.homedir(), '.vms-node', 'watcher.json')
}

/**
 * Starts following `keys` and prints verdicts as they advance. Signs with
 * `identity` (a key pair file), else `<storage>/identity.json`, else
 * {@link defaultWatcherIdentityPath}; its swarm uses the same key pair, so
 * the watcher has one key (one short id) as peer and as signer.
 * @throws VmsError BAD_KEY, BAD_ARGUMENT
 */
export async function runWatch (keys: readonly string[], opts: AuditCommandOptions & { identity?: string }, out: Output): Promise<RunningWatch> {
  const expectedSource = readExpectedSource(opts)
  const expected = expectedSource ? { sourceHash: expectedSource.sourceHash } : {}
  const identity = loadIdentity(opts.identity ?? (opts.storage ? path.join(opts.storage, 'identity.json') : defaultWatcherIdentityPath()))
  // the swarm runs on the watcher's key pair: peers see one key for this watcher, as node and as attestation signer
  // and it serves replicas (watch/serve.ts): reachable, not firewalled, like a host
  const swarm = createSwarm({ ...opts, firewalled: opts.firewalled ?? false }, identity)
  const watcher = new Watcher({ ...opts, identity, swarm })
  // a replay ended a sandbox process (the watcher replays that call again): say so, as a host does
  const onexit = (e: ChildExit): void => {
    if (out.json) out.object({ event: 'warning', message: describeExit(e) })
    else out.note(`warning: ${describeExit(e)}; the calls it was replaying are replayed again`)
  }
  sharedSandboxProcesses().on('exit', onexit)
  watcher.once('close', () => {
    sharedSandboxProcesses().off('exit', onexit)
    swarm.destroy().catch(safetyCatch)
  })
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
        else if (isSourceMismatch(v, cw.genesis, expectedSource)) {
          for (const line of mismatchLines(v, cw.genesis, expectedSource!)) out.line(line)
        } else {
          out.line(describeVerdict(v))
          out.line(JSON.stringify(v.fault, null, 2))
        }
      })
      cw.on('warning', (err: Error) => {
        if (out.json) out.object({ event: 'warning', contract: summaryKey(cw), message: err.message })
        else out.note('warning: ' + err.message)
      })
      cw.start()
      if (out.json) out.object({ event: 'watching', contract: summaryKey(cw), storage: watcher.storage, watcher: formatKey(watcher.identity.publicKey), node: formatKey(swarm.keyPair.publicKey) })
      else out.line(`watching ${summaryKey(cw)} as watcher ${formatKey(watcher.identity.publicKey)}`)
    }
  } catch (err) {
    await watcher.close().catch(safetyCatch)
    await swarm.destroy().catch(safetyCatch)
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
