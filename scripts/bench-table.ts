/**
 * The readable table of a benchmark result (`npm run bench` prints it on
 * stderr): one row per figure, with the target next to it.
 */

type Obj = Record<string, unknown>

function get (o: Obj, dotted: string): unknown {
  let v: unknown = o
  for (const k of dotted.split('.')) v = v && typeof v === 'object' ? (v as Obj)[k] : undefined
  return v
}

function fmt (v: unknown, unit: string): string {
  if (typeof v !== 'number' || Number.isNaN(v)) return '-'
  if (unit === 'MB') return `${Math.round(v / 1e6)} MB`
  if (unit === 'x') return `${v.toFixed(2)} x`
  return `${Math.round(v * 100) / 100} ${unit}`
}

/**
 * Rows: label, path in the result, unit, target text.
 * Units: calls/s, ms, s, x (a ratio), MB (the value is in bytes).
 */
const ROWS: Array<[string, string, string, string]> = [
  ['baseline (verify + batched put + batched append)', 'baseline.callsPerSec', 'calls/s', ''],
  ['write calls, 64 in flight', 'write.callsPerSec', 'calls/s', '>= 2,000'],
  ['  write / baseline', 'write.ratioToBaseline', 'x', '>= 0.9'],
  ['read-only calls, 64 in flight', 'read.callsPerSec', 'calls/s', '>= 5,000'],
  ['latency p50 at 500 calls/s', 'latency.p50Ms', 'ms', '<= 3'],
  ['latency p99 at 500 calls/s', 'latency.p99Ms', 'ms', '<= 20'],
  ['watcher replay (cold verify)', 'replay.replayCallsPerSec', 'calls/s', ''],
  ['  replay / host write', 'replay.ratioToHostWrite', 'x', '>= 2'],
  ['cold verify incl. download', 'replay.verifySeconds', 's', '<= 60 (100,000 calls)'],
  ['audit lag p50 at 1,000 calls/s', 'auditLag.p50Ms', 'ms', ''],
  ['audit lag p99 at 1,000 calls/s', 'auditLag.p99Ms', 'ms', '<= 2,000'],
  ['gossip to 10 nodes', 'gossip.ms', 'ms', '<= 1,000'],
  ['scale: RSS', 'scale.rssBytes', 'MB', '<= 2,000 MB'],
  ['scale: call p50', 'scale.p50Ms', 'ms', ''],
  ['scale: call p99', 'scale.p99Ms', 'ms', ''],
  ['sandbox call, in process', 'sandbox.inProcess.pureUs', 'µs', ''],
  ['sandbox call, sandbox process', 'sandbox.childProcess.pureUs', 'µs', ''],
  ['read+write call, in process', 'sandbox.inProcess.filesUs', 'µs', ''],
  ['read+write call, sandbox process', 'sandbox.childProcess.filesUs', 'µs', ''],
  ['cold verify from the host (rehost section)', 'rehost.fromHostSeconds', 's', ''],
  ['cold verify from 3 watchers, host offline', 'rehost.fromWatchersSeconds', 's', '']
]

/** The table text. */
export function table (result: Obj): string {
  const lines: string[] = []
  const notes: string[] = []
  if (get(result, 'replay.calls') !== undefined) notes.push(`replay log: ${get(result, 'replay.calls')} calls`)
  if (get(result, 'auditLag.source') !== undefined) notes.push(`audit lag measured to the first ${get(result, 'auditLag.source')}`)
  if (get(result, 'scale.contracts') !== undefined) notes.push(`scale: ${get(result, 'scale.contracts')} contracts, ${get(result, 'scale.liveSandboxes')} live sandboxes`)
  const w = Math.max(...ROWS.map((r) => r[0].length))
  lines.push(`${'figure'.padEnd(w)}  ${'median'.padStart(14)}  target`)
  for (const [label, p, unit, target] of ROWS) {
    const v = get(result, p)
    if (v === undefined) continue
    lines.push(`${label.padEnd(w)}  ${fmt(v, unit).padStart(14)}  ${target}`)
  }
  const m = result.machine as Obj | undefined
  if (m) notes.push(`${m.cpus} cores, node ${m.node}, ${result.runs} runs, ${result.seconds} s, load average ${JSON.stringify(m.loadAverage ?? null)}`)
  return lines.join('\n') + '\n' + notes.map((n) => '(' + n + ')').join('\n')
}
