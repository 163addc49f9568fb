/**
 * The soak (`npm run soak`): a host under mixed attack for a while, and an
 * honest client calling it all along. Three processes on a local DHT
 * testnet: the host (scripts/soak-host.ts: an honest and a hostile
 * contract), the attacker (scripts/soak-attacker.ts: hostile contract calls
 * with memory and CPU bombs, wire floods of unsigned 0.9 MB arguments,
 * gossip floods of valid attestations) and this one, the honest client
 * (one `increment` call after another).
 *
 * A host process that dies is counted and started again on its storage
 * (same keys): contract code should never take it down (its sandboxes run
 * in supervised sandbox processes, so a fatal out-of-memory ends one of
 * those, not the host); a crash is recorded and the soak carries on.
 *
 * Usage: `npm run soak -- --minutes 2` (default 10, or `VMS_SOAK_MINUTES`);
 * `--no-memory-bomb` leaves out `Array(1e9).fill(0)`; `--attacks wire,gossip`
 * picks the attacker's loops (default `calls,wire,gossip`).
 * Prints one JSON object: the honest client's calls, p50/p99/max latency
 * (ms) and errors by code, the host's RSS over time (MB, one sample per
 * `--sample-seconds`, default 10), its crashes, and the attacker's counters.
 */

import fs from 'node:fs'
import path from 'node:path'
import createTestnet from 'hyperdht/testnet.js'
import { VmsClient } from '../src/client.js'
import { keyPair } from '../src/crypto.js'
import { Child, percentile, round, sleep, tempDir, type Event } from './bench-lib.js'

function flag (name: string): string | undefined {
  const i = process.argv.indexOf('--' + name)
  return i !== -1 ? process.argv[i + 1] : undefined
}

const minutes = Number(flag('minutes') ?? process.env.VMS_SOAK_MINUTES ?? 10)
const sampleMs = Number(flag('sample-seconds') ?? 10) * 1000
const memoryBomb = !process.argv.includes('--no-memory-bomb')
const attacks = (flag('attacks') ?? 'calls,wire,gossip').split(',')
if (!(minutes > 0) || !(sampleMs > 0)) throw new Error('usage: soak [--minutes N] [--sample-seconds S]')

const testnet = await createTestnet(3, { host: '127.0.0.1' })
const bootstrap = testnet.bootstrap
const dir = tempDir('vms-soak-')
const storage = path.join(dir, 'host')
const started = Date.now()
const since = (): number => round((Date.now() - started) / 1000, 1)

const crashes: Array<{ at: number, exit: unknown, stderr: string }> = []
const rss: Array<[number, number]> = []
/** The newest `stats` event of the host and of the attacker. */
const latest: { host: Event | null, attacker: Event | null } = { host: null, attacker: null }
let host: Child
let ready: Event
let stopping = false

async function startHost (): Promise<void> {
  host = new Child('soak-host', { bootstrap, storage })
  ready = await host.next('ready')
  const me = host
  void me.exited.then(async (exit) => {
    if (stopping || me !== host) return
    crashes.push({ at: since(), exit, stderr: me.stderr.slice(-600) })
    await startHost()
  })
  void collect(me)
}

/** Keeps the newest `stats` event of the host. */
async function collect (child: Child): Promise<void> {
  for (;;) {
    try {
      latest.host = await child.next('stats', 60_000)
    } catch {
      return
    }
  }
}

await startHost()
const attacker = new Child('soak-attacker', { bootstrap, honest: ready!.honest, hostile: ready!.hostile, honestSigner: ready!.honestSigner, hostileSigner: ready!.hostileSigner, memoryBomb, attacks })
await attacker.next('ready')
void (async () => {
  for (;;) {
    try {
      latest.attacker = await attacker.next('stats', 60_000)
    } catch {
      return
    }
  }
})()

const sampler = setInterval(() => {
  if (latest.host) rss.push([since(), round(Number(latest.host.rss) / 1048576, 0)])
}, sampleMs)

const latencies: number[] = []
const errors: Record<string, number> = {}
const end = started + minutes * 60_000
let client: Awaited<ReturnType<typeof VmsClient.connect>> | null = null
while (Date.now() < end) {
  try {
    if (!client) client = await VmsClient.connect(String(ready!.honest), { bootstrap, identity: keyPair(), timeout: 15_000 })
    const t0 = performance.now()
    await client.call('increment')
    latencies.push(performance.now() - t0)
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'ERROR'
    errors[code] = (errors[code] ?? 0) + 1
    if (client) await client.close().catch(() => {})
    client = null
    await sleep(200)
  }
  await sleep(20)
}
clearInterval(sampler)
const final = latest.host // before anyone disconnects
stopping = true
if (client) await client.close().catch(() => {})
await attacker.stop()
await host!.stop()
await testnet.destroy()
fs.rmSync(dir, { recursive: true, force: true })

const report = {
  minutes,
  memoryBomb,
  attacks,
  honest: {
    calls: latencies.length,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(Math.max(...latencies)),
    errors
  },
  host: {
    rssMb: rss,
    crashes,
    // the last host process (counters since its start)
    rejectCpuMs: final?.rejectCpuMs ?? null,
    attestations: final?.attestations ?? null,
    gossipPeers: final?.gossipPeers ?? null,
    gossip: final?.gossip ?? null,
    hostileCalls: final?.hostileCalls ?? null
  },
  attacker: latest.attacker ? { hostileCalls: latest.attacker.hostileCalls, wire: latest.attacker.wire, gossip: latest.attacker.gossip, errors: latest.attacker.errors } : null
}
process.stdout.write(JSON.stringify(report, null, 2) + '\n')
process.exit(0)
