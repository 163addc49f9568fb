/**
 * The host of the soak (`npm run soak`, scripts/soak.ts), in its own process
 * so that its RSS is its own and a crash ends only it: one HostNode with an
 * honest contract (`ping`, `increment`) and a hostile one (memory and CPU
 * bombs, a huge kept string, a huge error, long file names). Prints `ready`
 * with both keys and signer records, then `stats` every second: RSS (bytes),
 * CPU charged for rejected requests (ms), attestations held, gossip peers
 * and counters (fresh attestations, strikes, drops; since this start).
 */

import c from 'compact-encoding'
import { HostNode } from '../src/host/host-node.js'
import { signerOf } from '../src/attest/signer.js'
import { signerRecord } from '../protocol/index.js'
import { runtimeFingerprint } from '../src/runtime/sandbox.js'
import { childIO } from './bench-lib.js'

/** The honest contract the honest client calls. */
export const HONEST_CONTRACT = `
let n = 0
exports.ping = () => 'pong'
exports.increment = () => ++n
`

/** The hostile contract: each method attacks the host in one way. */
export const HOSTILE_CONTRACT = `
const kept = []
exports.bomb = () => { Array(1e9).fill(0) }
exports.spin = () => { while (true) {} }
exports.hoard = (mb) => { kept.push('x'.repeat(mb * 1048576)); return kept.length }
exports.shout = () => { throw new Error('x'.repeat(20e6)) }
exports.names = async () => { for (let i = 0; i < 300; i++) await System.files.writeFile('/' + i + 'n'.repeat(4000), '') }
exports.ok = () => 'fine'
`

interface Config {
  bootstrap: Array<{ host: string, port: number }>
  storage: string
}

const node: { current: HostNode | null } = { current: null }
const { config, emit } = childIO<Config>(async (cmd) => {
  if (cmd.cmd === 'exit') {
    await node.current?.close()
    process.exit(0)
  }
})

// the default sandbox factory: supervised sandbox processes, as `vms-node host` runs them
const host = new HostNode({ storage: config.storage, runtime: runtimeFingerprint(), bootstrap: config.bootstrap })
node.current = host
const honest = await host.deploy(HONEST_CONTRACT, { name: 'honest' })
const hostile = await host.deploy(HOSTILE_CONTRACT, { name: 'hostile', limits: { timeoutMs: 500, memoryMb: 64 } })
const signer = (h: typeof honest): string => Buffer.from(c.encode(signerRecord, signerOf(h.log.core)!)).toString('hex')
emit({ event: 'ready', pid: process.pid, honest: honest.key.toString('hex'), hostile: hostile.key.toString('hex'), honestSigner: signer(honest), hostileSigner: signer(hostile) })
const gossip = { fresh: 0, strikes: 0, drops: 0 }
host.gossip.on('attestation', () => { gossip.fresh++ })
host.gossip.on('strike', () => { gossip.strikes++ })
host.gossip.on('drop', () => { gossip.drops++ })
setInterval(() => {
  emit({ event: 'stats', rss: process.memoryUsage().rss, rejectCpuMs: Math.round(host.rejectCpuMs), attestations: host.attestations.size, gossipPeers: host.gossip.peers.length, gossip, peers: host.peers.size, hostileCalls: hostile.stats.calls, hostileRejected: hostile.stats.rejected })
}, 1000).unref()
