// Cheap checks first: a host checks sizes, then the caller's signature, and
// only then parses the arguments; the CPU it spends on requests it rejects is
// charged to the peer that sent them, which is dropped (and refused for a
// while) once its budget is spent. Honest callers on other connections keep
// their latency.

import test from 'brittle'
import type { SwarmConnection } from 'hyperswarm'
import { RpcClient } from '../src/net/rpc.js'
import { createSwarm } from '../src/net/swarm.js'
import { discoveryKey, randomBytes } from '../src/crypto.js'
import { signCall } from '../src/caller.js'
import { example, hostNode, identity, testnet } from './helpers.js'
import type { T } from './helpers.js'
import type { Testnet } from 'hyperdht/testnet.js'
import { connect } from './fault-helpers.js'

/** A canonical JSON argument list of one object with `n` keys (~0.9 MB for 83,000). */
function heavyArgs (n: number): string {
  const keys = Array.from({ length: n }, (_, i) => `k${i}`).sort()
  return '[{' + keys.map((k) => `"${k}":1`).join(',') + '}]'
}

function p50 (ms: number[]): number {
  const s = [...ms].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? Infinity
}

async function rawRpc (t: T, net: Testnet, key: Uint8Array): Promise<{ rpc: RpcClient, conn: SwarmConnection, closed: Promise<unknown> }> {
  const swarm = createSwarm({ bootstrap: net.bootstrap })
  t.teardown(() => swarm.destroy())
  const conn = await new Promise<SwarmConnection>((resolve) => {
    swarm.once('connection', resolve)
    swarm.join(discoveryKey(key), { server: false, client: true })
  })
  const closed = new Promise((resolve) => conn.once('close', resolve))
  const rpc = new RpcClient(conn, key)
  await rpc.rpc.fullyOpened()
  return { rpc, conn, closed }
}

test('heavy unsigned arguments (0.9 MB, 83,000 keys, 8 in flight) against an honest client -> rejected before any parse, the flooder is dropped after a bounded number of requests, honest p50 stays low', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const honest = await connect(t, net, host.key)
  await honest.call('increment')

  const args = heavyArgs(83_000)
  t.ok(args.length > 780_000 && args.length < 1024 * 1024, `the argument is ${args.length} bytes, under maxArgsBytes`)
  const { rpc, conn, closed } = await rawRpc(t, net, host.key)
  let gone = false
  void closed.then(() => { gone = true })
  const codes = new Map<string, number>()
  let sent = 0
  const flooder = async (): Promise<void> => {
    while (!gone && sent < 2000) {
      sent++
      const req = { contract: host.key, caller: randomBytes(32), nonce: sent, method: 'increment', args, signature: randomBytes(64) }
      try {
        const reply = await rpc.call(req, 30_000)
        const code = reply.accepted ? 'accepted' : reply.error.code
        codes.set(code, (codes.get(code) ?? 0) + 1)
      } catch (err) {
        codes.set((err as { code?: string }).code ?? 'error', 1 + (codes.get((err as { code?: string }).code ?? 'error') ?? 0))
      }
    }
  }
  const cpu0 = process.cpuUsage()
  const flood = Promise.all(Array.from({ length: 8 }, flooder))

  const latencies: number[] = []
  while (!gone && latencies.length < 400) {
    const t0 = performance.now()
    await honest.call('increment')
    latencies.push(performance.now() - t0)
  }
  await flood
  const cpu = process.cpuUsage(cpu0)
  t.ok(gone, 'the flooding connection was dropped')
  t.ok(sent <= 200, `after ${sent} requests (bound 200)`)
  t.is(codes.get('accepted') ?? 0, 0, 'none ran')
  t.ok((codes.get('BAD_SIGNATURE') ?? 0) > 0, `each answered BAD_SIGNATURE until the drop (${JSON.stringify([...codes])})`)
  const spent = node.rejectCpuMs
  t.ok(spent < 1000, `host CPU charged to rejected requests: ${spent.toFixed(0)} ms (bound 1,000; parsed first, 150 of them cost 16.6 s)`)
  t.comment(`process CPU during the flood (flooder, host and client in one process): ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms`)
  const mid = p50(latencies)
  t.ok(mid < 100, `honest p50 during the flood ${mid.toFixed(1)} ms over ${latencies.length} calls (bound 100 ms; it was 155-175)`)

  t.ok(node.isBanned(conn.publicKey), 'and its key is refused for a while')
  const again: number[] = []
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now()
    await honest.call('increment')
    again.push(performance.now() - t0)
  }
  t.ok(p50(again) < 30, `honest p50 after the drop ${p50(again).toFixed(1)} ms`)
  t.is(host.log.length, 2 + latencies.length + again.length, 'only the honest calls were logged')
})

test('a signed request with heavy non-canonical arguments is parsed only after its signature checks, and its parse is charged to the peer', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  const host = await node.deploy(example('counter.js'), { name: 'counter' })
  const { rpc } = await rawRpc(t, net, host.key)
  const me = identity()
  const before = node.rejectCpuMs
  const bad = signCall(me, host.key, 1, 'increment', heavyArgs(20_000).replace('[{', '[ {'))
  const reply = await rpc.call(bad, 30_000)
  t.is(reply.accepted ? 'accepted' : reply.error.code, 'BAD_ARGUMENTS', 'signed but not canonical: BAD_ARGUMENTS')
  t.ok(node.rejectCpuMs > before, `its checks were charged: ${(node.rejectCpuMs - before).toFixed(1)} ms`)
  const ok = await rpc.call(signCall(me, host.key, 2, 'increment', '[]'), 10_000)
  t.ok(ok.accepted, 'one reject is within the budget: the peer is still served')
})

test('60 signed 0.9 MB calls at once on one connection -> at most 32 MiB of them in flight, the rest get HOST_BUSY unread; the host keeps serving', async (t) => {
  const net = await testnet(t)
  const node = await hostNode(t, net)
  // `gate` holds the contract (one call at a time) until its 5 s deadline: the 60 queue behind it
  const host = await node.deploy('exports.gate = () => new Promise(() => {}); exports.slow = (s) => s.length', { name: 'slow', limits: { timeoutMs: 5000 } })
  const { rpc } = await rawRpc(t, net, host.key)
  const me = identity()
  const big = JSON.stringify(['x'.repeat(900_000)])
  const gate = rpc.call(signCall(me, host.key, 1, 'gate', '[]'), 60_000)
  const reqs = Array.from({ length: 60 }, (_, i) => signCall(me, host.key, i + 2, 'slow', big))
  const replies = await Promise.all(reqs.map((r) => rpc.call(r, 120_000)))
  const g = await gate
  t.is(g.accepted && g.response.outcome.error?.code, 'TIMEOUT', 'the gate timed out')
  const codes = replies.map((r) => r.accepted ? 'ran' : r.error.code)
  const ran = codes.filter((c) => c === 'ran').length
  const busy = codes.filter((c) => c === 'HOST_BUSY').length
  t.ok(ran >= 30 && ran <= 37, `${ran} ran (at most 32 MiB in flight)`)
  t.ok(busy >= 23 && ran + busy === 60, `${busy} got HOST_BUSY (${JSON.stringify(codes.filter((c) => c !== 'ran' && c !== 'HOST_BUSY'))} else)`)
  const after = await rpc.call(signCall(me, host.key, 100, 'slow', '["ok"]'), 30_000)
  t.ok(after.accepted, 'the same connection is served afterwards')
})
