/**
 * Probe (not part of `npm run bench`): deploys N benchmark contracts on one
 * in-process host node and prints one JSON line per step: memory (RSS, heap,
 * external, array buffers, MB), live sandboxes, open contracts, open cores,
 * joined topics, every `step` contracts; cold and warm call latency (ms, 50
 * random contracts, 3 calls each, in process: no RPC); then the same after
 * a restart (open time in s).
 * Usage: `node --no-node-snapshot --expose-gc dist/scripts/scale-probe.js N [step] [maxLive]`
 * (`--expose-gc`: collect before each memory line).
 */

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import v8 from 'node:v8'
import createTestnet from 'hyperdht/testnet.js'
import { HostNode } from '../src/host/host-node.js'
import { sandboxPool } from '../src/host/sandbox-pool.js'
import { createSandbox, runtimeFingerprint } from '../src/runtime/sandbox.js'
import { signCall, NonceClock } from '../src/caller.js'
import { keyPair } from '../src/crypto.js'
import { canonicalArgs } from '../src/json.js'
import { BENCH_CONTRACT, now, percentile, round } from './bench-lib.js'

const N = Number(process.argv[2] ?? 1000)
const step = Number(process.argv[3] ?? 500)
if (process.argv[4]) sandboxPool.max = Number(process.argv[4])
const MB = (n: number): number => Math.round(n / 1e5) / 10

const net = await createTestnet(3)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vms-probe-'))

function snap (label: string, node: HostNode): void {
  global.gc?.()
  const m = process.memoryUsage()
  const store = node.store as unknown as { cores: { size?: number, map?: Map<unknown, unknown> } }
  const cores = (store.cores.map?.size ?? store.cores.size ?? -1)
  const swarm = node.swarm as unknown as { _discovery: Map<unknown, unknown> } | null
  console.log(JSON.stringify({
    label,
    contracts: node.contracts.size,
    rssMB: MB(m.rss),
    heapMB: MB(m.heapUsed),
    externalMB: MB(m.external),
    arrayBuffersMB: MB(m.arrayBuffers),
    live: sandboxPool.live,
    open: (node as unknown as { openContracts?: { live: number } }).openContracts?.live,
    cores,
    topics: swarm?._discovery.size,
    oldSpaceMB: MB(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0)
  }))
}

let node = new HostNode({ storage: dir, sandboxFactory: createSandbox, runtime: runtimeFingerprint(), bootstrap: net.bootstrap })
await node.ready()
snap('empty', node)
const t0 = now()
const keys: Buffer[] = []
for (let i = 0; i < N; i++) {
  const h = await node.deploy(BENCH_CONTRACT, { name: 's' + i })
  keys.push(h.key)
  if ((i + 1) % step === 0) { snap(`deployed (${round((now() - t0) / 1000)} s)`, node) }
}

async function calls (label: string): Promise<void> {
  const id = keyPair()
  const nonces = new NonceClock()
  const cold: number[] = []
  const warm: number[] = []
  for (let i = 0; i < 50; i++) {
    const key = keys[Math.floor(Math.random() * keys.length)]!
    const h = node.contracts.get(key.toString('hex'))!
    for (let j = 0; j < 3; j++) {
      const t = now()
      await h.call(signCall(id, key, nonces.next(), 'rsvp', canonicalArgs([`p-${j}`, true, 'x'])))
      ;(j === 0 ? cold : warm).push(now() - t)
    }
  }
  console.log(JSON.stringify({ label, coldP50: round(percentile(cold, 50)), coldP99: round(percentile(cold, 99)), warmP50: round(percentile(warm, 50)) }))
}
await calls('calls after deploy')
snap('after calls', node)

await node.close()
const t1 = now()
node = new HostNode({ storage: dir, sandboxFactory: createSandbox, runtime: runtimeFingerprint(), bootstrap: net.bootstrap })
await node.ready()
for (let i = 0; i < N; i++) await node.deploy(BENCH_CONTRACT, { name: 's' + i })
console.log(JSON.stringify({ label: 'reopen', seconds: round((now() - t1) / 1000) }))
snap('reopened', node)
await calls('calls after reopen')
snap('after calls (reopened)', node)
await node.close()
await net.destroy()
fs.rmSync(dir, { recursive: true, force: true })
