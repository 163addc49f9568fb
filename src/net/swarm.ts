/**
 * Hyperswarm set-up for vms-node: the DHT bound to a chosen interface
 * (loopback by default, see ENVIRONMENT notes: a DHT on 0.0.0.0 never sees
 * incoming connections on these machines), an explicit bootstrap list, and
 * an error handler on every connection (a reset peer must not crash the node).
 */

import Hyperswarm from 'hyperswarm'
import HyperDHT from 'hyperdht'
import type { SwarmConnection } from 'hyperswarm'
import path from 'node:path'
import { VmsError } from '../errors.js'
import { loadIdentity } from '../identity.js'
import type { KeyPair } from '../crypto.js'
import safetyCatch from 'safety-catch'

/** A DHT bootstrap node address. */
export interface BootstrapNode {
  host: string
  port: number
}

/** Network options shared by every command. */
export interface NetOptions {
  /** DHT bootstrap nodes; `[]` or undefined means the public DHT defaults. */
  bootstrap?: BootstrapNode[]
  /** Interface the DHT binds to (default 127.0.0.1). */
  bindHost?: string
  /** Whether the DHT node says it is firewalled (default true; hosts pass false so peers can reach them). */
  firewalled?: boolean
  /** Return true to refuse a connection from this remote noise public key (default: accept all). */
  firewall?: (remotePublicKey: Buffer) => boolean
}

/**
 * Parses `host:port[,host:port...]` (also accepts an array of such strings).
 * @throws VmsError BAD_BOOTSTRAP
 */
export function parseBootstrap (text: string | string[] | undefined): BootstrapNode[] {
  if (text === undefined) return []
  const parts = (Array.isArray(text) ? text : [text]).flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean)
  return parts.map((part) => {
    const i = part.lastIndexOf(':')
    const host = i > 0 ? part.slice(0, i).replace(/^\[|\]$/g, '') : ''
    const port = Number(part.slice(i + 1))
    if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) throw VmsError.BAD_BOOTSTRAP(`expected host:port, got ${JSON.stringify(part)}`)
    return { host, port }
  })
}

/** `host:port` text of a bootstrap list. */
export function formatBootstrap (nodes: BootstrapNode[]): string {
  return nodes.map((n) => `${n.host}:${n.port}`).join(',')
}

/**
 * A Hyperswarm on its own HyperDHT node. The swarm owns the DHT (destroying
 * the swarm destroys it).
 * @param opts network options
 * @param keyPair the swarm's noise key pair (default: random)
 */
export function createSwarm (opts: NetOptions = {}, keyPair?: { publicKey: Buffer, secretKey: Buffer }): Hyperswarm {
  const dht = new HyperDHT({
    bootstrap: opts.bootstrap && opts.bootstrap.length > 0 ? opts.bootstrap : undefined,
    host: opts.bindHost ?? '127.0.0.1',
    firewalled: opts.firewalled ?? true
  })
  const swarm = new Hyperswarm({ dht, ...(keyPair ? { keyPair } : {}), ...(opts.firewall ? { firewall: opts.firewall } : {}) })
  swarm.on('connection', (conn: SwarmConnection) => {
    conn.on('error', safetyCatch) // resets and timeouts are normal: the services react to the close
  })
  return swarm
}

/** File name of the node key (the swarm's noise key pair) inside a node's storage folder. */
export const NODE_KEY_FILE = 'node-key.json'

/**
 * The node key kept in `storage` (created there on first use, mode 0600):
 * the swarm key pair a restarted node announces under again, so its old DHT
 * records are replaced instead of piling up (after 20 restarts under fresh
 * keys a client needed ~32 s to reach the host).
 * @param storage the node's storage folder
 * @returns an ed25519 key pair (32-byte public, 64-byte secret key)
 * @throws VmsError BAD_ARGUMENT when the file exists but is not a key pair
 */
export function loadNodeKeyPair (storage: string): KeyPair {
  const { publicKey, secretKey } = loadIdentity(path.join(storage, NODE_KEY_FILE))
  return { publicKey, secretKey }
}
