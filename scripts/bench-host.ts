/**
 * Benchmark child: a host node on the benchmark's DHT serving copies of the
 * benchmark contract. Emits `ready` with the contract keys (hex by name),
 * then answers commands: `stats` (RSS and heap in bytes, CPU ms, per-contract
 * call and group-commit counts, live sandboxes), `served` (p50/p99 in ms of
 * the time calls spent inside the host since the last `served`: from the
 * RPC handing a request over to its answer) and `exit`.
 *
 * Config: `{ bootstrap, storage, names?: string[], scale?: number, budgetMs?: number, maxLive?: number }`:
 * `names` deploys one contract per name; `scale` deploys that many more
 * (`s0`, `s1`, ...; on a storage that holds them already, reopens them) and
 * reports `deployed` progress events (`count`, `seconds`, `rss` bytes) every
 * 100; past `budgetMs` ms it stops deploying. `ready` then says how many it
 * deployed (`deployed`), whether the budget stopped it (`stoppedEarly`), how
 * long the node took to open (`openSeconds`) and the contracts
 * (`scaleSeconds`), s.
 */

import path from 'node:path'
import type { Attestation } from '../protocol/index.js'
import { attestationId } from '../src/attest/attestation.js'
import { HostNode } from '../src/host/host-node.js'
import { ContractHost } from '../src/host/contract-host.js'
import { sandboxPool } from '../src/host/sandbox-pool.js'
import { createSandbox, runtimeFingerprint } from '../src/runtime/sandbox.js'
import { createProcessSandbox } from '../src/runtime/sandbox-process.js'
import type { BootstrapNode } from '../src/net/swarm.js'
import { BENCH_CONTRACT, childIO, now, percentile, round } from './bench-lib.js'

interface Config {
  bootstrap: BootstrapNode[]
  storage: string
  names?: string[]
  scale?: number
  /** Stop deploying the `scale` contracts after this many ms (default: no bound). */
  budgetMs?: number
  maxLive?: number
  /** Report every attestation the host's gossip receives (`received` events). */
  gossipEvents?: boolean
}

let node: HostNode | null = null

// time each call spends in the host, from the RPC handing it over to the answer (ms)
const served: number[] = []
const call = ContractHost.prototype.call
ContractHost.prototype.call = async function (this: ContractHost, req) {
  const t = now()
  try {
    return await call.call(this, req)
  } finally {
    if (served.length < 1_000_000) served.push(now() - t)
  }
}

const { config, emit } = childIO<Config>(async (cmd) => {
  if (cmd.cmd === 'stats') {
    const mem = process.memoryUsage()
    const contracts: Record<string, { calls: number, batches: number, length: number }> = {}
    for (const h of node ? node.contracts.values() : []) {
      if (h.name.startsWith('s')) continue
      contracts[h.name] = { calls: h.stats.calls, batches: h.stats.batches, length: h.log.length }
    }
    const cpu = process.cpuUsage()
    emit({ event: 'stats', cpuMs: (cpu.user + cpu.system) / 1000, rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external, contracts, live: sandboxPool.live, evictions: sandboxPool.evictions, rebuilds: sandboxPool.rebuilds })
  } else if (cmd.cmd === 'served') {
    const all = served.splice(0)
    emit({ event: 'served', calls: all.length, p50Ms: round(percentile(all, 50)), p99Ms: round(percentile(all, 99)) })
  } else if (cmd.cmd === 'exit') {
    if (node) await node.close()
    process.exit(0)
  }
})

if (config.maxLive !== undefined) sandboxPool.max = config.maxLive
// VMS_BENCH_SANDBOX=process: the supervised sandbox processes that `vms-node host` uses (default here: in process)
const sandboxFactory = process.env.VMS_BENCH_SANDBOX === 'process' ? createProcessSandbox : createSandbox
const opened = now()
node = new HostNode({ storage: config.storage, sandboxFactory, runtime: runtimeFingerprint(), bootstrap: config.bootstrap })
await node.ready()
const openSeconds = (now() - opened) / 1000
if (config.gossipEvents) node.gossip.on('attestation', (a: Attestation) => emit({ event: 'received', t: now(), id: attestationId(a) }))
const keys: Record<string, string> = {}
for (const name of config.names ?? []) {
  const host = await node.deploy(BENCH_CONTRACT, { name })
  keys[name] = host.key.toString('hex')
}
const scaleKeys: string[] = []
const t0 = now()
let stoppedEarly = false
if (config.scale) {
  for (let i = 0; i < config.scale; i++) {
    if (now() - t0 > (config.budgetMs ?? Infinity)) {
      stoppedEarly = true
      break
    }
    const host = await node.deploy(BENCH_CONTRACT, { name: 's' + i })
    scaleKeys.push(host.key.toString('hex'))
    if ((i + 1) % 100 === 0) emit({ event: 'deployed', count: i + 1, seconds: (now() - t0) / 1000, rss: process.memoryUsage().rss })
  }
}
emit({ event: 'ready', keys, scaleKeys, deployed: scaleKeys.length, stoppedEarly, openSeconds, scaleSeconds: (now() - t0) / 1000, storage: path.basename(config.storage) })
