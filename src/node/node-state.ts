/**
 * A node's own state, kept in its own Corestore: one Hyperbee on the core
 * named `vms-node-state` (writable only by this store's primary key; nobody
 * else knows its key, and replication serves a core only to a peer that
 * names it by key). Keys are `<prefix>/<id>` strings, values bytes.
 *
 * Every {@link NodeState.write} is one Hyperbee batch: its puts and deletes
 * land in one atomic append of the core (all or none after a crash, unlike
 * a rewritten JSON file). Writes are applied in call order.
 *
 * What lives here: watcher positions (`watch/<contract hex>`, see
 * watch/state.ts) and kept attestations (`attestations/<id>`, see
 * {@link attestationPersistence}).
 */

import ReadyResource from 'ready-resource'
import Hyperbee from 'hyperbee'
import type Corestore from 'corestore'
import { VmsError } from '../errors.js'
import type { AttestationPersistence } from '../attest/store.js'

/** Name of the state core in the node's Corestore. */
export const NODE_STATE_CORE = 'vms-node-state'

/** A key/value view of the node's state bee (see the module doc). */
export class NodeState extends ReadyResource {
  private readonly store: Corestore
  private bee: Hyperbee<Buffer> | null = null
  private queue: Promise<void> = Promise.resolve()

  /** @param store the node's Corestore (or a session of it); nothing is opened before `ready()` */
  constructor (store: Corestore) {
    super()
    this.store = store
  }

  protected override async _open (): Promise<void> {
    const bee = new Hyperbee<Buffer>(this.store.get({ name: NODE_STATE_CORE }), { keyEncoding: 'utf-8', valueEncoding: 'binary' })
    await bee.ready()
    this.bee = bee
  }

  protected override async _close (): Promise<void> {
    await this.queue
    if (this.bee) await this.bee.close()
  }

  /** Bytes the state core holds (all its history: the bee is append-only), 0 before `ready()`. */
  get byteLength (): number {
    return this.bee ? this.bee.core.byteLength : 0
  }

  /** The value at `key`, or null. */
  async get (key: string): Promise<Buffer | null> {
    if (!this.opened) await this.ready()
    const node = await (this.bee as Hyperbee<Buffer>).get(key)
    return node ? node.value : null
  }

  /** Every entry whose key starts with `prefix` + '/', in key order. */
  async list (prefix: string): Promise<Array<{ key: string, value: Buffer }>> {
    if (!this.opened) await this.ready()
    const out: Array<{ key: string, value: Buffer }> = []
    for await (const e of (this.bee as Hyperbee<Buffer>).createReadStream({ gt: prefix + '/', lt: prefix + '0' })) out.push({ key: e.key, value: e.value })
    return out
  }

  /**
   * Puts and deletes in one atomic batch (after every earlier write).
   * @throws VmsError CLOSED once the state is closing
   * @param puts key -> value
   * @param dels keys to delete
   */
  async write (puts: Iterable<[string, Uint8Array]>, dels: Iterable<string> = []): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.closing) throw VmsError.CLOSED('the node state is closed')
      if (!this.opened) await this.ready()
      const bee = this.bee as Hyperbee<Buffer>
      // a batch on a closed core leaves a rejection Hyperbee never hands back
      if (bee.core.closing) throw VmsError.CLOSED('the node state core is closed')
      const b = bee.batch()
      for (const [k, v] of puts) await b.put(k, Buffer.from(v.buffer, v.byteOffset, v.byteLength))
      for (const k of dels) await b.del(k)
      await b.flush()
    }
    const next = this.queue.then(run)
    this.queue = next.catch(() => {}) // the caller gets the error; later writes still run
    await next
  }
}

/**
 * Keeps an {@link AttestationStore}'s attestations under `attestations/<id>`
 * in `state`: each save writes only what changed (new ids put, dropped ids
 * deleted) in one batch, so the state core grows with the churn, not with
 * the store's size times the saves.
 */
export function attestationPersistence (state: NodeState): AttestationPersistence {
  const PREFIX = 'attestations'
  let written = new Set<string>()
  return {
    async load (): Promise<Uint8Array[]> {
      const list = await state.list(PREFIX)
      written = new Set(list.map((e) => e.key))
      return list.map((e) => e.value)
    },
    async save (kept: Map<string, Uint8Array>): Promise<void> {
      const keys = new Set([...kept.keys()].map((id) => PREFIX + '/' + id))
      const puts: Array<[string, Uint8Array]> = []
      for (const [id, bytes] of kept) if (!written.has(PREFIX + '/' + id)) puts.push([PREFIX + '/' + id, bytes])
      const dels = [...written].filter((k) => !keys.has(k))
      if (puts.length === 0 && dels.length === 0) return
      await state.write(puts, dels)
      written = keys
    }
  }
}
