/**
 * Appends to several cores of one Corestore in one storage write: the
 * blocks go to sessions of the cores opened with one storage atom
 * (Hypercore 11: `core.session({ atom })`, the atom from the store's
 * storage, holepunch-internals.ts), and `atom.flush()` writes all of them
 * in one RocksDB write batch. A crash leaves either all of them or none.
 *
 * The host's group commit uses it for the drive's blobs, the drive's
 * database blocks and the call records of a group: one write where there
 * were three in a row (plus the pending marker, which an all-or-nothing
 * write makes needless).
 *
 * The atomic sessions are kept from group to group (opening them reads the
 * tree heads from storage). A flush makes each core what its session holds,
 * so they must start where the cores are: when a core was written or
 * truncated outside (a length or fork the session does not have) they are
 * opened afresh.
 */

import type Hypercore from 'hypercore'
import { VmsError } from '../errors.js'
import { createAtom, type StorageAtom } from './holepunch-internals.js'
import safetyCatch from 'safety-catch'

/** Appends to several cores of one store in one storage write (see the module doc). */
export class AtomicAppender {
  private readonly cores: Hypercore[]
  private atom: StorageAtom | null = null
  private sessions: Hypercore[] | null = null

  /** @param cores writable cores of one Corestore */
  constructor (cores: Hypercore[]) {
    this.cores = cores
  }

  /** Whether `core`'s storage makes atoms (else writes go core by core). */
  static works (core: Hypercore): boolean {
    return createAtom(core) !== null
  }

  /**
   * Appends `blocks[i]` to core `i` (an empty or missing list leaves it
   * alone), all in one storage write.
   * @param check runs after the appends and before the write, with the
   *   sessions (their lengths and roots are what the write makes of the
   *   cores); it throws to write nothing
   * @throws what an append, `check` or the write throws; nothing is
   *   written then (VmsError INTERNAL when the store makes no atoms)
   */
  async append (blocks: ReadonlyArray<readonly Uint8Array[]>, check?: (sessions: readonly Hypercore[]) => void | Promise<void>): Promise<void> {
    const sessions = await this.open()
    try {
      await Promise.all(blocks.map((b, i) => b.length > 0 ? sessions[i]!.append(b as Uint8Array[]) : null))
      if (check) await check(sessions)
      await this.atom!.flush()
    } catch (err) {
      // the sessions hold appends that were never written: drop them with the atom
      await this.reset()
      throw err
    }
  }

  /** Closes the sessions (the next append opens new ones). */
  async reset (): Promise<void> {
    const s = this.sessions
    this.sessions = null
    this.atom = null
    if (s) await Promise.all(s.map((x) => x.close().catch(safetyCatch)))
  }

  private async open (): Promise<Hypercore[]> {
    const cores = this.cores
    if (this.sessions && this.sessions.every((s, i) => s.length === cores[i]!.length && s.fork === cores[i]!.fork)) return this.sessions
    await this.reset()
    const atom = createAtom(cores[0]!)
    if (!atom) throw VmsError.INTERNAL('the store makes no storage atoms (see holepunch-internals.ts)')
    const sessions = cores.map((c) => c.session({ atom }))
    try {
      await Promise.all(sessions.map((s) => s.ready()))
    } catch (err) {
      await Promise.all(sessions.map((s) => s.close().catch(safetyCatch)))
      throw err
    }
    this.atom = atom
    this.sessions = sessions
    return sessions
  }
}
