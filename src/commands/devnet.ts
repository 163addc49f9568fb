/**
 * `vms-node devnet`: a local DHT bootstrap (a small hyperdht testnet) that
 * stays up, so hosts, callers and watchers can find each other offline.
 */

import createTestnet from 'hyperdht/testnet.js'
import type { Testnet } from 'hyperdht/testnet.js'
import { formatBootstrap } from '../net/swarm.js'
import type { Output } from './output.js'

/** Options for {@link runDevnet}. */
export interface DevnetOptions {
  /** UDP port of the first (bootstrap) node; 0 picks a free one. */
  port: number
  /** Interface to bind (default 127.0.0.1). */
  host: string
  /** DHT nodes to run (at least 3: one bootstrap node alone is not enough). */
  nodes: number
}

/**
 * Starts the local DHT.
 * Warns (stderr) when the asked port was taken and another one was used.
 * @returns the testnet (destroy it to stop) and its `host:port` bootstrap text
 */
export async function runDevnet (opts: DevnetOptions, out: Output): Promise<{ testnet: Testnet, bootstrap: string }> {
  const testnet = await createTestnet(Math.max(3, opts.nodes), { host: opts.host, port: opts.port })
  const bootstrap = formatBootstrap(testnet.bootstrap)
  const port = testnet.bootstrap[0]?.port
  // the DHT binds another port when the asked one is taken: say so, a stale --bootstrap would find nothing
  const moved = opts.port !== 0 && port !== opts.port
  if (moved) out.note(`warning: UDP port ${opts.port} is taken (another devnet?); the local DHT took port ${port} instead: pass --bootstrap ${bootstrap}`)
  if (out.json) out.object({ event: 'ready', bootstrap, nodes: testnet.nodes.length, port, requestedPort: opts.port, portTaken: moved })
  else {
    out.line(bootstrap)
    out.note(`Local DHT of ${testnet.nodes.length} nodes is up. Pass --bootstrap ${bootstrap} to other commands. Ctrl+C to stop.`)
  }
  return { testnet, bootstrap }
}
