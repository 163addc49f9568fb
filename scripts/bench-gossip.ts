/**
 * Benchmark section `gossip`: time for one attestation to reach every one
 * of `gossipNodes` nodes: a host node process and `gossipNodes - 1` gossip
 * nodes connected to it, run `gossipProcs` processes at a time
 * (bench-gossip-nodes.ts: e.g. 99 nodes in 10 processes; each node has its
 * own swarm, DHT node and storage). One node signs an attestation and
 * gossips it; the time is until the last node has it.
 */

import { Child, median, now, round } from './bench-lib.js'
import { startHost, stopAll, stopHost, type BenchParams } from './bench-procs.js'

/** Waits until `want` nodes of `child` report the attestation `id`, or `deadline` (ms wall clock); the last arrival time or null. */
async function arrivals (child: Child, want: number, id: string, deadline: number): Promise<{ got: number, last: number | null }> {
  let got = 0
  let last = 0
  while (got < want) {
    const left = deadline - now()
    if (left <= 0) return { got, last: null }
    let ev
    try {
      ev = await child.next('received', left)
    } catch {
      return { got, last: null }
    }
    if (ev.id !== id) continue
    got++
    last = Math.max(last, ev.t as number)
  }
  return { got, last }
}

/**
 * `runs` runs of one attestation spreading to all nodes (at most 30 s each).
 * @returns `{ nodes, processes, ms (median, ms), runs (ms; null when some node never got it), reached (nodes per run),
 *   startSeconds (s until every node was connected) }`
 */
export async function gossip (p: BenchParams): Promise<Record<string, unknown>> {
  const host = await startHost(p, ['g'], { gossipEvents: true })
  const others = p.gossipNodes - 1
  const procs = Math.max(1, Math.min(p.gossipProcs, others))
  const counts = Array.from({ length: procs }, (_, i) => Math.floor(others / procs) + (i < others % procs ? 1 : 0))
  const t0 = now()
  const children = counts.map((nodes) => new Child('bench-gossip-nodes', { bootstrap: p.bootstrap, key: host.keys.g, nodes }))
  const runs: Array<number | null> = []
  const reached: number[] = []
  let startSeconds = 0
  try {
    await Promise.all(children.map((c) => c.next('ready', 5 * 60_000)))
    startSeconds = round((now() - t0) / 1000)
    process.stderr.write(`  ${others} nodes in ${procs} processes connected in ${startSeconds} s\n`)
    for (let r = 0; r < p.runs; r++) {
      const origin = children[0]!
      origin.send({ cmd: 'publish' })
      const pub = await origin.next('published', 30_000)
      const id = pub.id as string
      const deadline = now() + 30_000
      const got = await Promise.all([
        arrivals(host.child, 1, id, deadline),
        ...children.map((c, i) => arrivals(c, counts[i]! - (i === 0 ? 1 : 0), id, deadline))
      ])
      const n = 1 + got.reduce((a, g) => a + g.got, 0) // the origin has it
      const all = got.every((g) => g.last !== null)
      runs.push(all ? round(Math.max(...got.map((g) => g.last!)) - (pub.t as number)) : null)
      reached.push(n)
      process.stderr.write(`  run ${r + 1}: ${all ? `${runs.at(-1)} ms to reach` : 'in 30 s reached only'} ${n} of ${p.gossipNodes} nodes\n`)
    }
  } finally {
    await stopAll(children)
    await stopHost(host)
  }
  const done = runs.filter((x): x is number => x !== null)
  return { nodes: p.gossipNodes, processes: procs, ms: done.length === runs.length ? median(done) : null, runs, reached, startSeconds }
}
