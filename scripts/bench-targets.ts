/**
 * The targets of the benchmark (the performance issue's list) and how a
 * result meets them: each a figure of the result (a dotted path), a bound,
 * and the size the target is stated for (a smaller run, e.g. `--quick`,
 * says "not judged" instead of met or missed).
 */

type Obj = Record<string, unknown>

/** One target: `path` in the result `op` `bound` (`abs<=`: its absolute value); judged only when `when` holds (else `why` says why not). */
export interface Target {
  path: string
  op: '>=' | '<=' | 'abs<='
  bound: number
  /** The bound as the table prints it. */
  text: string
  when?: (r: Obj) => boolean
  why?: string
}

/** What {@link judge} says of one target: `met` null when not judged at this size. */
export interface Judged {
  path: string
  value: number | null
  target: string
  met: boolean | null
  note?: string
}

/** Reads a dotted path of a result (undefined when absent). */
export function get (o: Obj, dotted: string): unknown {
  let v: unknown = o
  for (const k of dotted.split('.')) v = v && typeof v === 'object' ? (v as Obj)[k] : undefined
  return v
}

const num = (r: Obj, p: string): number => Number(get(r, p) ?? NaN)

/** The targets, in the table's order. Ratios are from the same run (see bench-throughput.ts). */
export const TARGETS: Target[] = [
  { path: 'write.ratioToCryptoCap', op: '>=', bound: 0.6, text: '>= 0.6 x' },
  { path: 'write.ratioToBaseline', op: '>=', bound: 0.9, text: '>= 0.9 x' },
  { path: 'read.ratioToCryptoCap', op: '>=', bound: 0.8, text: '>= 0.8 x' },
  { path: 'read.ratioToBaseline', op: '>=', bound: 0.9, text: '>= 0.9 x' },
  { path: 'latency.at1000.p50Ms', op: '<=', bound: 2, text: '<= 2 ms' },
  { path: 'latency.at1000.p99Ms', op: '<=', bound: 10, text: '<= 10 ms' },
  { path: 'replay.ratioToHostWrite', op: '>=', bound: 2, text: '>= 2 x' },
  { path: 'replay.verifySeconds', op: '<=', bound: 30, text: '<= 30 s', when: (r) => num(r, 'replay.calls') >= 100_000, why: 'the target is for a 100,000-call log' },
  { path: 'auditLag.p99Ms', op: '<=', bound: 1000, text: '<= 1,000 ms' },
  // flat: the p99 lag grows (or shrinks: a run that started behind) by at most 5 ms per s of load (300 ms over
  // 60 s); a watcher falling behind grows by hundreds
  { path: 'auditFlat.p99SlopeMsPerS', op: 'abs<=', bound: 5, text: '|x| <= 5 ms/s (flat)' },
  { path: 'gossip.ms', op: '<=', bound: 1000, text: '<= 1,000 ms', when: (r) => num(r, 'gossip.nodes') >= 100, why: 'the target is for 100 nodes' },
  { path: 'scale.rssAfterOpenBytes', op: '<=', bound: 4e9, text: '<= 4,000 MB', when: (r) => num(r, 'scale.reopened') >= 10_000, why: 'the target is for 10,000 contracts' },
  { path: 'scale.rssAfterCallsBytes', op: '<=', bound: 4e9, text: '<= 4,000 MB', when: (r) => num(r, 'scale.reopened') >= 10_000, why: 'the target is for 10,000 contracts' },
  { path: 'scale.coldP50Ms', op: '<=', bound: 20, text: '<= 20 ms', when: (r) => num(r, 'scale.reopened') >= 10_000, why: 'the target is for 10,000 contracts' }
]

/**
 * Judges every target whose figure the result has.
 * @returns one entry per present figure: value, target text, met (true/false, or null with a note when not judged at this size)
 */
export function judge (result: Obj): Judged[] {
  const out: Judged[] = []
  for (const t of TARGETS) {
    const v = get(result, t.path)
    if (v === undefined) continue
    const value = typeof v === 'number' && Number.isFinite(v) ? v : null
    if (t.when && !t.when(result)) {
      out.push({ path: t.path, value, target: t.text, met: null, note: `not judged: ${t.why ?? 'smaller run'}` })
      continue
    }
    const met = value === null ? false : t.op === '>=' ? value >= t.bound : t.op === '<=' ? value <= t.bound : Math.abs(value) <= t.bound
    out.push({ path: t.path, value, target: t.text, met })
  }
  return out
}
