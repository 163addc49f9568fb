/**
 * The readable table of a benchmark result (`npm run bench` prints it on
 * stderr): one row per figure, with the target next to it (bench-targets.ts)
 * and whether this run met it.
 */

import { get, judge } from './bench-targets.js'

type Obj = Record<string, unknown>

function fmt (v: unknown, unit: string): string {
  if (typeof v !== 'number' || Number.isNaN(v)) return '-'
  if (unit === 'MB') return `${Math.round(v / 1e6)} MB`
  if (unit === 'x') return `${v.toFixed(2)} x`
  return `${Math.round(v * 100) / 100} ${unit}`
}

/**
 * Rows: label, path in the result, unit.
 * Units: calls/s, verifies/s, ms, ms/s, s, x (a ratio), MB (the value is in bytes), nodes.
 */
const ROWS: Array<[string, string, string]> = [
  ['cryptoCap (ed25519 verifies, one core)', 'cryptoCap.verifiesPerSec', 'verifies/s'],
  ['baseline (verify + batched put + batched append)', 'baseline.callsPerSec', 'calls/s'],
  ['naive (2017 design: verify, put, append in turn)', 'naive.callsPerSec', 'calls/s'],
  ['write calls, 64 in flight', 'write.callsPerSec', 'calls/s'],
  ['  write / cryptoCap', 'write.ratioToCryptoCap', 'x'],
  ['  write / baseline', 'write.ratioToBaseline', 'x'],
  ['  write / naive', 'write.ratioToNaive', 'x'],
  ['read-only calls, 64 in flight', 'read.callsPerSec', 'calls/s'],
  ['  read-only / cryptoCap', 'read.ratioToCryptoCap', 'x'],
  ['  read-only / baseline', 'read.ratioToBaseline', 'x'],
  ['latency p50 at 1,000 calls/s', 'latency.at1000.p50Ms', 'ms'],
  ['latency p99 at 1,000 calls/s', 'latency.at1000.p99Ms', 'ms'],
  ['latency p50 at 500 calls/s', 'latency.at500.p50Ms', 'ms'],
  ['latency p99 at 500 calls/s', 'latency.at500.p99Ms', 'ms'],
  ['watcher replay (cold verify)', 'replay.replayCallsPerSec', 'calls/s'],
  ['  replay / host write', 'replay.ratioToHostWrite', 'x'],
  ['  replay / cryptoCap', 'replay.ratioToCryptoCap', 'x'],
  ['cold verify incl. download', 'replay.verifySeconds', 's'],
  ['audit lag p50 at 1,000 calls/s', 'auditLag.p50Ms', 'ms'],
  ['audit lag p99 at 1,000 calls/s', 'auditLag.p99Ms', 'ms'],
  ['audit lag at half capacity: offered', 'auditFlat.offeredCallsPerSec', 'calls/s'],
  ['  p99 lag slope over the run', 'auditFlat.p99SlopeMsPerS', 'ms/s'],
  ['  p99 lag, last / first window', 'auditFlat.lastOverFirstP99', 'x'],
  ['gossip: nodes', 'gossip.nodes', 'nodes'],
  ['gossip: one attestation to all nodes', 'gossip.ms', 'ms'],
  ['scale: contracts deployed', 'scale.deployed', 'contracts'],
  ['scale: contracts reopened (restart)', 'scale.reopened', 'contracts'],
  ['scale: time to open (restart)', 'scale.openSeconds', 's'],
  ['scale: RSS after open', 'scale.rssAfterOpenBytes', 'MB'],
  ['scale: RSS after calls', 'scale.rssAfterCallsBytes', 'MB'],
  ['scale: cold call p50', 'scale.coldP50Ms', 'ms'],
  ['scale: cold call p99', 'scale.coldP99Ms', 'ms'],
  ['scale: warm call p50', 'scale.warmP50Ms', 'ms'],
  ['sandbox call, in process', 'sandbox.inProcess.pureUs', 'µs'],
  ['sandbox call, sandbox process', 'sandbox.childProcess.pureUs', 'µs'],
  ['read+write call, in process', 'sandbox.inProcess.filesUs', 'µs'],
  ['read+write call, sandbox process', 'sandbox.childProcess.filesUs', 'µs'],
  ['cold verify from the host (rehost section)', 'rehost.fromHostSeconds', 's'],
  ['cold verify from 3 watchers, host offline', 'rehost.fromWatchersSeconds', 's']
]

/** The table text: label, median, target, met / missed / not judged (with why). */
export function table (result: Obj): string {
  const lines: string[] = []
  const notes: string[] = []
  const judged = new Map(judge(result).map((j) => [j.path, j]))
  if (get(result, 'replay.calls') !== undefined) notes.push(`replay log: ${get(result, 'replay.calls')} calls`)
  if (get(result, 'auditLag.source') !== undefined) notes.push(`audit lag measured to the first ${get(result, 'auditLag.source')}`)
  const flat = get(result, 'auditFlat.windows') as Array<{ p50Ms: number, p99Ms: number }> | undefined
  if (flat) notes.push(`audit lag per ${get(result, 'auditFlat.windowSeconds')} s window over ${get(result, 'auditFlat.seconds')} s, p50/p99 ms: ${flat.map((w) => `${w.p50Ms}/${w.p99Ms}`).join(', ')}`)
  if (get(result, 'scale.contracts') !== undefined) notes.push(`scale: ${get(result, 'scale.deployed')} of ${get(result, 'scale.contracts')} contracts deployed${get(result, 'scale.stoppedEarly') ? ' (the deploy budget ran out)' : ''}, ${get(result, 'scale.reopened')} reopened${get(result, 'scale.reopenStoppedEarly') ? ' (the budget ran out)' : ''}, ${get(result, 'scale.liveSandboxes')} live sandboxes`)
  const w = Math.max(...ROWS.map((r) => r[0].length))
  lines.push(`${'figure'.padEnd(w)}  ${'median'.padStart(16)}  ${'target'.padEnd(18)}  `)
  for (const [label, p, unit] of ROWS) {
    const v = get(result, p)
    if (v === undefined) continue
    const j = judged.get(p)
    const verdict = !j ? '' : j.met === null ? (j.note ?? '') : j.met ? 'met' : 'missed'
    lines.push(`${label.padEnd(w)}  ${fmt(v, unit).padStart(16)}  ${(j?.target ?? '').padEnd(18)}  ${verdict}`.trimEnd())
  }
  const m = result.machine as Obj | undefined
  if (m) notes.push(`${m.cpus} cores, node ${m.node}, ${result.runs} runs, ${result.seconds} s, load average ${JSON.stringify(m.loadAverage ?? null)}`)
  return lines.join('\n') + '\n' + notes.map((n) => '(' + n + ')').join('\n')
}
