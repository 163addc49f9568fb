// The benchmark's targets and its flatness slope: how a result is judged (no speed is measured here).
import test from 'brittle'
import { judge } from '../scripts/bench-targets.js'
import { slope } from '../scripts/bench-audit.js'

test('bench targets: met, missed, and not judged below the size a target is stated for', (t) => {
  const r = {
    write: { ratioToCryptoCap: 0.7, ratioToBaseline: 0.8 },
    latency: { at1000: { p50Ms: 1.5, p99Ms: 12 } },
    gossip: { nodes: 10, ms: 8 },
    scale: { reopened: 100, coldP50Ms: 3 },
    replay: { calls: 100_000, verifySeconds: 31 }
  }
  const by = new Map(judge(r).map((j) => [j.path, j]))
  t.is(by.get('write.ratioToCryptoCap')!.met, true)
  t.is(by.get('write.ratioToBaseline')!.met, false)
  t.is(by.get('latency.at1000.p50Ms')!.met, true)
  t.is(by.get('latency.at1000.p99Ms')!.met, false)
  t.is(by.get('gossip.ms')!.met, null, '10 nodes: the target is for 100')
  t.is(by.get('scale.coldP50Ms')!.met, null, '100 contracts: the target is for 10,000')
  t.is(by.get('replay.verifySeconds')!.met, false)
  t.absent(by.get('read.ratioToCryptoCap'), 'figures not in the result are left out')
})

test('bench targets: flat means neither growing nor shrinking', (t) => {
  t.is(judge({ auditFlat: { p99SlopeMsPerS: 3 } })[0]!.met, true)
  t.is(judge({ auditFlat: { p99SlopeMsPerS: 300 } })[0]!.met, false, 'falling behind')
  t.is(judge({ auditFlat: { p99SlopeMsPerS: -900 } })[0]!.met, false, 'started behind, catching up')
})

test('bench targets: a figure that is not a number is missed, not met', (t) => {
  const [j] = judge({ auditLag: { p99Ms: NaN } })
  t.is(j!.met, false)
  t.is(j!.value, null)
})

test('bench audit: slope of a flat, a growing and a shrinking lag (ms per s)', (t) => {
  const xs = [5, 15, 25, 35, 45, 55]
  t.is(slope(xs, [100, 100, 100, 100, 100, 100]), 0)
  t.is(slope(xs, xs.map((x) => 1000 + 500 * x)), 500)
  t.ok(slope(xs, [900, 700, 500, 300, 100, 50]) < 0)
  t.is(slope([5], [100]), 0, 'one window: no slope')
})
