/**
 * A watcher's local copy of a host's files database, used to judge calls
 * without opening checkouts of the replicated drive.
 *
 * The mirror is a writable core in the watcher's store holding exactly the
 * host's database blocks up to the version judged so far (its blobs are the
 * host's, read by id). To judge a call, the watcher replays it reading the
 * mirror (plus the writes of the calls judged since the last flush), then
 * applies the replay's writes to the mirror the way a host does
 * (drive-group.ts: one put after another, every block with its full tree
 * index) and compares the blocks this gives, byte for byte, with the
 * host's blocks between the record's `filesBefore` and `filesAfter`, and
 * the blobs with the host's blob content. Equal bytes mean the host's
 * drive at `filesAfter` is the drive at `filesBefore` with exactly the
 * replayed writes applied, which is what the full files check
 * establishes. Anything else (another block layout, a lying host, a
 * missing block) is not decided here: the judge runs the full check on the
 * replicated drive, and the mirror copies the host's blocks afterwards.
 */

import b4a from 'b4a'
import Hyperdrive from 'hyperdrive'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import type { CallRecord } from '../../protocol/index.js'
import { DriveCommitter } from '../log/drive-committer.js'
import { blobOfBlock, groupsAppendOnce, type Blobs, type DriveGroup } from '../log/drive-group.js'
import type { FileOp, FilesView } from '../runtime/types.js'
import type { HostFilesAhead } from './judge-ahead.js'
import safetyCatch from 'safety-catch'

/** Calls judged between two flushes of the mirror. */
const FLUSH_EVERY = 256

/** How long to wait for a block. */
export interface WaitOptions { wait?: boolean, timeout?: number }

/** The host's drive as the mirror needs it. */
interface HostDrive {
  core: Hypercore
  getBlobs (): Promise<unknown>
}

/** See the module doc. Build with {@link FilesMirror.open}. */
export class FilesMirror {
  /** True after a call the mirror could not confirm: {@link sync} before the next one. */
  dirty = false
  /** True when the host's drive was truncated: the next {@link sync} checks the whole copy. */
  suspect = false
  private readonly core: Hypercore
  private readonly drive: Hyperdrive
  private readonly host: HostDrive
  private readonly hostBlobs: Blobs
  private readonly committer: DriveCommitter
  private readonly waitOpts: WaitOptions
  private group: DriveGroup | null = null
  private calls = 0
  private blobEnd = { length: 0, byteLength: 0 }

  private constructor (core: Hypercore, drive: Hyperdrive, host: HostDrive, hostBlobs: Blobs, waitOpts: WaitOptions) {
    this.core = core
    this.drive = drive
    this.host = host
    this.hostBlobs = hostBlobs
    this.waitOpts = waitOpts
    this.committer = new DriveCommitter(drive, { foreignBlobs: { blobs: hostBlobs, base: () => this.blobEnd } })
  }

  /**
   * Opens (or creates) the mirror of `host` in `store` and brings it to `version`.
   * @param name a name unique to the contract in `store`
   * @returns null when mirrors cannot work here (groups cannot keep every version a checkout)
   */
  static async open (store: Corestore, name: string, host: HostDrive, version: number, waitOpts: WaitOptions): Promise<FilesMirror | null> {
    if (!groupsAppendOnce()) return null
    const core = store.get({ name: 'vms-mirror/' + name })
    await core.ready()
    if (!core.writable) {
      await core.close()
      return null
    }
    const hostBlobs = await host.getBlobs() as Blobs
    // the header block first, so the drive below opens on the host's database as it is
    const header = await mustGet(host.core, 0, waitOpts)
    if (core.length > 0 && !(await core.get(0))!.equals(header)) await core.truncate(0)
    if (core.length === 0) await core.append(header)
    const drive = new Hyperdrive(store, core.key)
    await drive.ready()
    const m = new FilesMirror(core, drive, host, hostBlobs, waitOpts)
    await m.sync(version, true)
    return m
  }

  /** The host's drive version the mirror holds (judged calls since the last flush included). */
  get version (): number {
    return this.group ? this.group.version : this.core.length
  }

  /** What a replay of the next call reads: the host's files at {@link version}. */
  view (): FilesView {
    if (!this.group) this.group = this.committer.begin()
    return this.group.view
  }

  /**
   * Applies a replayed call's writes and compares with the host's blocks.
   * @returns the host's blocks from `rec.filesBefore` to `rec.filesAfter`
   *   when the drive moved by exactly these writes; null when that needs the
   *   full check (the mirror is then {@link dirty})
   */
  async confirm (rec: CallRecord, writes: readonly FileOp[], theirs: Promise<Array<Uint8Array | null>> = this.hostBlocks(rec), ahead: HostFilesAhead | null = null): Promise<Uint8Array[] | null> {
    return await this.stage(rec, writes, theirs, ahead).confirmed
  }

  /**
   * {@link confirm} in two steps: `queued` resolves once {@link view} shows
   * the writes (the next call may start reading it: the judge replays it
   * while this one is compared), `confirmed` as `confirm` does.
   */
  stage (rec: CallRecord, writes: readonly FileOp[], theirs: Promise<Array<Uint8Array | null>>, ahead: HostFilesAhead | null): { queued: Promise<void>, confirmed: Promise<Uint8Array[] | null> } {
    let onQueued: () => void = () => {}
    const queued = new Promise<void>((resolve) => { onQueued = resolve })
    const confirmed = this.apply(rec, writes, theirs, ahead, onQueued).finally(onQueued)
    return { queued, confirmed }
  }

  /** True when the next confirmed call flushes the mirror (its view then changes group). */
  get flushDue (): boolean {
    return this.calls + 1 >= FLUSH_EVERY
  }

  private async apply (rec: CallRecord, writes: readonly FileOp[], theirs: Promise<Array<Uint8Array | null>>, ahead: HostFilesAhead | null, queued: () => void): Promise<Uint8Array[] | null> {
    if (this.dirty || this.version !== rec.filesBefore) return this.fail()
    const group = this.group ?? (this.group = this.committer.begin())
    let made: Awaited<ReturnType<DriveGroup['apply']>>
    try {
      made = await group.apply(writes, queued)
      if (rec.filesAfter - rec.filesBefore !== made.blocks.length) return this.fail()
      const blocks = await theirs
      for (let k = 0; k < made.blocks.length; k++) {
        const b = blocks[k]
        if (!b || !b4a.equals(b, made.blocks[k]!)) return this.fail()
      }
      for (const b of made.blobs) {
        const theirs = b.data.byteLength === 0 ? b.data : (ahead?.blob(b.id) ?? await this.hostBlobs.get(b.id))
        if (!theirs || !b4a.equals(theirs, b.data)) return this.fail()
      }
      for (const b of made.blobs) this.blobEnd = endOf(b.id, this.blobEnd)
    } catch (err) {
      safetyCatch(err)
      return this.fail()
    }
    if (++this.calls >= FLUSH_EVERY) await this.flush()
    return made.blocks
  }

  /**
   * Starts reading the host's blocks a record says its call made (to
   * overlap with the replay; pass the result to {@link confirm}).
   * @param ahead the host's blocks read ahead in a batch (judge-ahead.ts), used where they hold one
   */
  hostBlocks (rec: CallRecord, ahead: HostFilesAhead | null = null): Promise<Array<Uint8Array | null>> {
    const reads: Array<Promise<Uint8Array | null> | Uint8Array> = []
    for (let v = rec.filesBefore; v < rec.filesAfter && reads.length < 4096; v++) reads.push(ahead?.block(v) ?? this.host.core.get(v, this.waitOpts).catch(() => null))
    return Promise.all(reads)
  }

  /**
   * Makes the mirror hold the host's blocks up to `version` (after a call
   * the full check passed, or on open), copying them as they are.
   */
  async sync (version: number, verify = false): Promise<void> {
    if (!this.dirty && this.version === version) return
    if (this.group) {
      const g = this.group
      this.group = null
      // calls confirmed since the last flush hold the host's own blocks; the failed one's are dropped
      await g.discard()
    }
    this.calls = 0
    let length = this.core.length
    if (length > version) {
      await this.core.truncate(version)
      length = version
    }
    if ((verify || this.suspect) && length > 1 && !(await this.core.treeHash(length)).equals(await this.host.core.treeHash(length))) {
      await this.core.truncate(1)
      length = 1
    }
    const blocks: Uint8Array[] = []
    for (let i = length; i < version; i++) {
      blocks.push(await mustGet(this.host.core, i, this.waitOpts))
      if (blocks.length >= 1024 || i === version - 1) await this.core.append(blocks.splice(0))
    }
    this.committer.reset()
    this.blobEnd = await this.blobEndAt(version)
    this.dirty = false
    this.suspect = false
  }

  /** Closes the mirror (what was confirmed but not flushed is simply copied again next time). */
  async close (): Promise<void> {
    if (this.group) await this.group.discard()
    this.group = null
    await this.drive.close()
    await this.core.close()
  }

  private async flush (): Promise<void> {
    const g = this.group
    this.group = null
    this.calls = 0
    if (g) await g.flush()
  }

  private fail (): null {
    this.dirty = true
    return null
  }

  /** Where the host's next blob starts at `version`: the end of the last blob an entry before it names. */
  private async blobEndAt (version: number): Promise<{ length: number, byteLength: number }> {
    for (let i = version - 1; i >= 1; i--) {
      const id = blobOfBlock(await mustGet(this.core, i, this.waitOpts))
      if (id) return endOf(id, { length: 0, byteLength: 0 })
    }
    return { length: 0, byteLength: 0 }
  }
}

function endOf (id: { blockOffset: number, blockLength: number, byteOffset: number, byteLength: number }, prev: { length: number, byteLength: number }): { length: number, byteLength: number } {
  return { length: Math.max(prev.length, id.blockOffset + id.blockLength), byteLength: Math.max(prev.byteLength, id.byteOffset + id.byteLength) }
}

async function mustGet (core: Hypercore, index: number, opts: WaitOptions): Promise<Buffer> {
  const b = await core.get(index, opts)
  if (!b) throw new Error(`block ${index} is not available`)
  return b
}
