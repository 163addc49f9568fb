/**
 * Says early whether any DHT node answers, so a missing `--bootstrap` does
 * not look like a dead host: commands probe the bootstrap list with a
 * short-lived client DHT node before they start their real work.
 */

import safetyCatch from 'safety-catch'
import { noop } from '../noop.js'
import HyperDHT from 'hyperdht'
import { VmsError } from '../errors.js'
import { formatBootstrap, type NetOptions } from '../net/swarm.js'

/** How long a probe waits for the first DHT node to answer, ms. */
export const DHT_PROBE_MS = 3000

/** What a probe found. */
export interface DhtProbe {
  /** `host:port,...` of the bootstrap list, or `public DHT (host:port,...)`. */
  dht: string
  /** Whether at least one DHT node answered within the wait. */
  ok: boolean
  /** DHT nodes known after the probe; 0 when the DHT did not answer (a node that only contacted ours is no DHT). */
  nodes: number
}

/** Text naming the DHT of these options: the bootstrap list, or the public DHT. */
export function describeDht (opts: NetOptions): string {
  if (opts.bootstrap && opts.bootstrap.length > 0) return formatBootstrap(opts.bootstrap)
  const pub = HyperDHT.BOOTSTRAP
  return `the public DHT (${pub.join(',')})`
}

/** The one-line hint every "no DHT" message ends with. */
export const BOOTSTRAP_HINT = 'pass --bootstrap host:port or set VMS_BOOTSTRAP (`vms-node devnet` runs a local DHT and prints its host:port)'

/**
 * Starts a client DHT node on the bootstrap list of `opts` and waits up to
 * `ms` for the DHT to answer: with an explicit bootstrap list, for one of
 * its nodes to answer a ping; with the public DHT, for the node to know at
 * least one other. (A node that merely contacted ours does not count: on a
 * machine with other DHTs, a node that once knew our port pings it.)
 * @param ms wait, ms (default {@link DHT_PROBE_MS})
 * @param signal stops the wait early (the result then says what was known)
 * @returns what it found; never throws for an unreachable DHT
 */
export async function probeDht (opts: NetOptions, ms = DHT_PROBE_MS, signal?: AbortSignal): Promise<DhtProbe> {
  const explicit = opts.bootstrap && opts.bootstrap.length > 0 ? opts.bootstrap : null
  const dht = new HyperDHT({
    bootstrap: explicit ?? undefined,
    host: opts.bindHost ?? '127.0.0.1',
    ephemeral: true
  })
  const count = (): number => dht.toArray().length
  try {
    // ready() also resolves when no bootstrap node answered: what counts is an answer
    dht.ready().catch(safetyCatch)
    let answered = false
    if (explicit) Promise.any(explicit.map((b) => dht.ping(b))).then(() => { answered = true }, noop)
    const ok = (): boolean => explicit ? answered : count() > 0
    const deadline = Date.now() + ms
    while (!ok() && Date.now() < deadline && !signal?.aborted) await new Promise((resolve) => setTimeout(resolve, 25))
    return { dht: describeDht(opts), ok: ok(), nodes: ok() ? count() : 0 }
  } finally {
    await dht.destroy({ force: true }).catch(safetyCatch)
  }
}

/**
 * Probes the DHT and throws when no node answered.
 * @throws VmsError NO_DHT naming the bootstrap list and how to pass one
 */
export async function requireDht (opts: NetOptions, ms = DHT_PROBE_MS): Promise<DhtProbe> {
  const p = await probeDht(opts, ms)
  if (!p.ok) throw VmsError.NO_DHT(`no DHT node answered within ${ms} ms at ${p.dht}: ${BOOTSTRAP_HINT}`)
  return p
}
