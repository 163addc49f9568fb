/**
 * Benchmark child: call latency on a host of many contracts. One swarm
 * connection to the host (found through the first key's topic); for each
 * key an RPC channel on that connection and `calls` write calls in a row.
 * The first call of a contract may find its sandbox evicted (rebuilt by
 * replay): it is reported apart as `cold`.
 *
 * Config: `{ bootstrap, keys: hex[], calls }`. Emits `ready`, then `done`
 * with `cold` and `warm` latencies (ms) and `errors`.
 */

import type { SwarmConnection } from 'hyperswarm'
import { NonceClock, signCall } from '../src/caller.js'
import { discoveryKey, keyPair } from '../src/crypto.js'
import { canonicalArgs } from '../src/json.js'
import { RpcClient } from '../src/net/rpc.js'
import { createSwarm, type BootstrapNode } from '../src/net/swarm.js'
import { childIO, now } from './bench-lib.js'

interface Config {
  bootstrap: BootstrapNode[]
  keys: string[]
  calls: number
}

const { config, emit } = childIO<Config>(async (cmd) => {
  if (cmd.cmd === 'exit') {
    await swarm.destroy()
    process.exit(0)
  }
})

const identity = keyPair()
const nonces = new NonceClock()
const swarm = createSwarm({ bootstrap: config.bootstrap })
const conn = await new Promise<SwarmConnection>((resolve) => {
  swarm.once('connection', (c: SwarmConnection) => resolve(c))
  swarm.join(discoveryKey(Buffer.from(config.keys[0]!, 'hex')), { server: false, client: true })
})
emit({ event: 'ready' })

const cold: number[] = []
const warm: number[] = []
let errors = 0
let firstError: string | null = null
for (const hex of config.keys) {
  const key = Buffer.from(hex, 'hex')
  const rpc = new RpcClient(conn, key)
  await rpc.rpc.fullyOpened()
  for (let i = 0; i < config.calls; i++) {
    const req = signCall(identity, key, nonces.next(), 'rsvp', canonicalArgs([`scale-${i}`, true, 'bench']))
    const t = now()
    try {
      const reply = await rpc.call(req, 30_000)
      if (!reply.accepted) throw new Error(reply.error.message)
      ;(i === 0 ? cold : warm).push(now() - t)
    } catch (err) {
      errors++
      if (firstError === null) firstError = String((err as Error).message)
    }
  }
  rpc.close()
}
emit({ event: 'done', cold, warm, errors, firstError })
