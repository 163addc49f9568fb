/**
 * Reads a V8 CPU profile (`node --cpu-prof` writes `*.cpuprofile`) and prints
 * where the time went, as one JSON object on stdout and a table on stderr:
 * the share of sampled time per function (self time) and per package or
 * project folder (self time summed over its files), biggest first.
 *
 *   node dist/scripts/profile-top.js <file.cpuprofile> [--top 25]
 *
 * Self time of a node = samples whose top frame is that node x the sampling
 * interval (the profile's `timeDeltas`), as Chrome DevTools' "bottom-up" view.
 */

import fs from 'node:fs'
import path from 'node:path'

/** The parts of a .cpuprofile this reads (Chrome DevTools Protocol `Profiler.Profile`). */
interface CpuProfile {
  nodes: Array<{ id: number, callFrame: { functionName: string, url: string, lineNumber: number } }>
  samples: number[]
  timeDeltas: number[]
}

/**
 * Sums self time per function and per group (npm package, project folder, or
 * a V8 pseudo-frame such as `(garbage collector)`).
 * @param profile a parsed .cpuprofile
 * @returns total sampled ms and the rows, biggest first (ms and share 0..1)
 */
export function summarize (profile: CpuProfile): { totalMs: number, functions: Row[], groups: Row[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const fn = new Map<string, number>()
  const group = new Map<string, number>()
  let total = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)
    if (!node) continue
    const us = Math.max(0, profile.timeDeltas[i] ?? 0)
    total += us
    const { functionName, url, lineNumber } = node.callFrame
    const g = groupOf(url, functionName)
    const name = `${functionName || '(anonymous)'} ${url ? path.basename(url) + ':' + (lineNumber + 1) : ''}`.trim()
    fn.set(name + ' [' + g + ']', (fn.get(name + ' [' + g + ']') ?? 0) + us)
    group.set(g, (group.get(g) ?? 0) + us)
  }
  const rows = (m: Map<string, number>): Row[] => [...m].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, share: Math.round((us / total) * 1000) / 1000 }))
  return { totalMs: Math.round(total / 1000), functions: rows(fn), groups: rows(group) }
}

/** One line of the summary. */
export interface Row {
  name: string
  /** Self time, ms. */
  ms: number
  /** Share of all sampled time, 0..1. */
  share: number
}

/** `node_modules/<pkg>` (scoped too), the project folder of a file (`src/host`), `node:` internals, or the pseudo-frame's name. */
function groupOf (url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)'
  const nm = url.lastIndexOf('node_modules/')
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/')
    return rest[0]!.startsWith('@') ? rest[0] + '/' + rest[1] : rest[0]!
  }
  if (url.startsWith('node:')) return 'node internals'
  const dist = url.indexOf('/dist/')
  if (dist !== -1) return path.dirname(url.slice(dist + '/dist/'.length))
  return path.basename(url)
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(path.basename(process.argv[1]))
if (isMain) {
  const file = process.argv[2]
  if (!file) {
    process.stderr.write('usage: profile-top <file.cpuprofile> [--top n]\n')
    process.exit(1)
  }
  const i = process.argv.indexOf('--top')
  const top = i === -1 ? 25 : Number(process.argv[i + 1])
  const s = summarize(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile)
  const line = (r: Row): string => `${(r.share * 100).toFixed(1).padStart(5)}%  ${String(r.ms).padStart(9)} ms  ${r.name}`
  process.stderr.write(`${s.totalMs} ms sampled\n\nby package or folder\n${s.groups.slice(0, top).map(line).join('\n')}\n\nby function\n${s.functions.slice(0, top).map(line).join('\n')}\n`)
  process.stdout.write(JSON.stringify({ totalMs: s.totalMs, groups: s.groups.slice(0, top), functions: s.functions.slice(0, top) }) + '\n')
}
