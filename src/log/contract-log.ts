/**
 * A contract's call log (a Hypercore) and files (a Hyperdrive) around one
 * Corestore namespace. The host opens it writable; watchers and clients open
 * a replica by key.
 *
 * Crash safety: the host writes a group's call records, its drive blocks and
 * its blobs in one storage write (atomic-append.ts, {@link ContractLog.appendCalls}
 * with a sealed drive group): after a crash all of them are there or none.
 * Where that is not possible (a store without storage atoms, a drive group
 * that writes call by call), undo logging: before a batch of calls touches the drive the
 * host stores a pending marker (the drive version and log length before the
 * batch) in the log core's local user data. It is not cleared after the
 * batch's call records are appended (that would be one more storage write per
 * group): a log longer than the marker's log length says the batch landed. On
 * open, a marker whose records never reached the log (the log is no longer
 * than its log length) means the drive holds writes nobody acknowledged: the
 * drive is truncated back to the marker's version. Edits to the drive made outside
 * the host (no marker) are left in place: the next call record shows them and
 * watchers flag them.
 */

import ReadyResource from 'ready-resource'
import Hyperdrive from 'hyperdrive'
import c from 'compact-encoding'
import type { State } from 'compact-encoding'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { headSignable, logBlock, rootSignable, type CallRecord, type GenesisRecord, type HeadStatement, type LogBlock, type RootStatement } from '../../protocol/index.js'
import { VmsError } from '../errors.js'
import { sign } from '../crypto.js'
import type { BlockProver } from './block-proof.js'
import type { SealedFiles } from './drive-group.js'
import { AtomicAppender } from './atomic-append.js'
import { cacheBeeNodes } from './holepunch-internals.js'
import { currentRoots, treeHashOf } from './merkle.js'

const PENDING_KEY = 'vms/pending'

/** Where a half-done batch started, as stored in the pending marker. */
interface PendingMarker {
  filesVersion: number
  logLength: number
}

const pendingMarker = {
  preencode (state: State, m: PendingMarker) { c.uint.preencode(state, m.filesVersion); c.uint.preencode(state, m.logLength) },
  encode (state: State, m: PendingMarker) { c.uint.encode(state, m.filesVersion); c.uint.encode(state, m.logLength) },
  decode (state: State): PendingMarker { return { filesVersion: c.uint.decode(state), logLength: c.uint.decode(state) } }
}

/** Options for {@link ContractLog}. */
export interface ContractLogOptions {
  /**
   * Key of an existing call log to open as a replica (never recovered or
   * written, even when this store could sign it); omit to open (or create)
   * this store's own log as its host.
   */
  key?: Uint8Array
  /** Files drive key of a replica; read from the genesis when omitted. */
  filesKey?: Uint8Array
}

/** What {@link ContractLog.recover} found and did on open. */
export interface RecoveryReport {
  /** Drive blocks removed because their batch never reached the log. */
  undoneBlocks: number
  /** Drive version is past the last logged one without a marker: an outside edit. */
  unloggedEdit: boolean
}

/**
 * The call log + files of one contract.
 * Events: `append` (new log length) when records are appended.
 */
export class ContractLog extends ReadyResource {
  readonly store: Corestore
  readonly core: Hypercore
  /** The files drive; null on a replica until the genesis is known. */
  drive: Hyperdrive | null = null
  /** Block 0, once the log has one. */
  genesis: GenesisRecord | null = null
  recovery: RecoveryReport = { undoneBlocks: 0, unloggedEdit: false }
  private readonly filesKey: Uint8Array | null
  private readonly replica: boolean
  private appender: AtomicAppender | null = null

  /**
   * @param store a Corestore (namespaced per contract on a host)
   * @param opts see {@link ContractLogOptions}
   */
  constructor (store: Corestore, opts: ContractLogOptions = {}) {
    super()
    this.store = store
    this.core = opts.key ? store.get({ key: opts.key }) : store.get({ name: 'call-log' })
    this.filesKey = opts.filesKey ?? null
    this.replica = !!opts.key
  }

  /** Contract key: the call log's key. */
  get key (): Buffer {
    return this.core.key as Buffer
  }

  /** Number of blocks in the log (genesis included). */
  get length (): number {
    return this.core.length
  }

  /** Whether this is the host's own log (it can append). */
  get writable (): boolean {
    return !this.replica && this.core.writable
  }

  protected override async _open (): Promise<void> {
    await this.core.ready()
    if (this.writable) {
      this.drive = new Hyperdrive(this.store.namespace('files'))
      await this.drive.ready()
      if (this.core.length > 0) this.genesis = await this.readGenesis()
      await this.recover()
    } else if (this.filesKey) {
      this.drive = new Hyperdrive(this.store, this.filesKey)
      await this.drive.ready()
    }
  }

  protected override async _close (): Promise<void> {
    if (this.appender) await this.appender.reset()
    if (this.drive) await this.drive.close()
    await this.core.close()
  }

  /**
   * Appends the genesis record to an empty log (host only).
   * @throws VmsError BAD_RECORD when the log is not empty
   */
  async create (genesis: GenesisRecord): Promise<void> {
    if (!this.opened) await this.ready()
    if (this.core.length !== 0) throw VmsError.BAD_RECORD('log already has a genesis')
    await this.core.append(c.encode(logBlock, { type: 'genesis', genesis }))
    this.genesis = genesis
  }

  /**
   * Reads and decodes block `index`, waiting for it to replicate when needed.
   * @throws VmsError BAD_RECORD when the block does not decode
   */
  async block (index: number, opts: { wait?: boolean, timeout?: number } = {}): Promise<LogBlock> {
    const buf = await this.core.get(index, opts)
    if (buf === null) throw VmsError.BAD_RECORD(`block ${index} is not available`)
    return decodeBlock(buf, index)
  }

  /**
   * Makes sure the files drive has its header block (host only), so that every
   * drive version a record names is a real length of the drive's database
   * core (tree hashes and checkouts need that). Uses public API only: a put
   * and a delete of a scratch path, leaving no file behind.
   * @returns the drive version afterwards
   */
  async initFiles (): Promise<number> {
    const drive = this.drive
    if (!drive) throw VmsError.INTERNAL('files drive is not open')
    if (drive.core.length === 0) {
      await drive.put('/.vms-init', Buffer.alloc(0))
      await drive.del('/.vms-init')
    }
    return drive.version
  }

  /** Reads block 0. @throws VmsError BAD_RECORD when it is not a genesis record */
  async readGenesis (opts: { wait?: boolean, timeout?: number } = {}): Promise<GenesisRecord> {
    const b = await this.block(0, opts)
    if (b.type !== 'genesis') throw VmsError.BAD_RECORD('block 0 is not a genesis record')
    return b.genesis
  }

  /** Reads the call record at block `index` (>= 1). @throws VmsError BAD_RECORD */
  async call (index: number, opts: { wait?: boolean, timeout?: number } = {}): Promise<CallRecord> {
    const b = await this.block(index, opts)
    if (b.type !== 'call') throw VmsError.BAD_RECORD(`block ${index} is not a call record`)
    return b.call
  }

  /** Opens the files drive of a replica from its genesis (no-op when open). */
  async openFiles (): Promise<Hyperdrive> {
    if (this.drive) return this.drive
    if (!this.genesis) this.genesis = await this.readGenesis({ wait: true })
    this.drive = new Hyperdrive(this.store, this.genesis.files)
    await this.drive.ready()
    return this.drive
  }

  /**
   * Stores the pending marker before a batch writes to the drive (host only).
   * @param filesVersion drive version before the batch
   */
  async beginBatch (filesVersion: number): Promise<void> {
    await this.core.setUserData(PENDING_KEY, c.encode(pendingMarker, { filesVersion, logLength: this.core.length }))
  }

  /**
   * Appends call records as one log append; the pending marker of their
   * batch is settled by the longer log (see the module doc).
   * The records are durable (flushed to storage) when this resolves.
   * @param prover learns the new blocks and their tree nodes (proofs of them then read no storage)
   * @param files a sealed drive group (drive-group.ts) written in the same storage write as the records (see {@link atomic})
   * @returns the block index of the first record
   */
  async appendCalls (records: CallRecord[], prover: BlockProver | null = null, files: SealedFiles | null = null): Promise<number> {
    const start = this.core.length
    if (records.length > 0) {
      const blocks = records.map((call) => c.encode(logBlock, { type: 'call', call }))
      const learnt = prover ? prover.learn(blocks) : null
      // once groups go through the atomic sessions, every append does: one outside would make them start over
      if (files || this.appender) await this.appendWithFiles(blocks, files)
      else await this.core.append(blocks)
      if (prover) prover.appended(learnt)
    }
    this.emit('append', this.core.length)
    return start
  }

  /** Whether {@link appendCalls} can write a sealed drive group with the records (one storage write). */
  get atomic (): boolean {
    return this.writable && AtomicAppender.works(this.core)
  }

  /**
   * The records, the group's database blocks and its blobs (when it wrote
   * any) in one storage write, after checking that the blocks fit the drive as it is (lengths,
   * and the tree hash the records name).
   * @throws VmsError INTERNAL when they do not (nothing is written)
   */
  private async appendWithFiles (blocks: Uint8Array[], files: SealedFiles | null): Promise<void> {
    const drive = this.drive
    const blobs = drive ? await drive.getBlobs() : null
    if (!drive || !blobs) throw VmsError.INTERNAL('files drive is not open')
    if (!this.appender) this.appender = new AtomicAppender([this.core, drive.core, blobs.core])
    if (!files) return await this.appender.append([blocks])
    if (drive.core.length !== files.dbAt || blobs.core.length !== files.blobsAt) {
      throw VmsError.INTERNAL(`the drive moved under a sealed group (database ${drive.core.length}, not ${files.dbAt}; blobs ${blobs.core.length}, not ${files.blobsAt})`)
    }
    await this.appender.append([blocks, files.db, files.blobs], (sessions) => {
      const roots = currentRoots(sessions[1]!)
      if (!roots || !treeHashOf(roots).equals(files.hash)) throw VmsError.INTERNAL('a sealed drive group would not give the tree hash its records name')
    })
    // the next group's batch reads these index nodes: from memory, not storage
    if (drive.core.length === files.dbAt + files.db.length) cacheBeeNodes(drive, files.dbAt, files.db)
  }

  /**
   * Signs a root statement for the log at `length` with the log's own key
   * pair (host only): the receipt a caller keeps.
   */
  async signRoot (length: number = this.core.length): Promise<RootStatement> {
    const kp = this.core.keyPair
    if (!kp || !kp.secretKey) throw VmsError.INTERNAL('log is not writable')
    const body = { contract: this.key, length, fork: this.core.fork, treeHash: await this.treeHash(length) }
    return { ...body, signature: sign(rootSignable(body), kp.secretKey) }
  }

  /** Tree hash of the log at `length`: from the roots in memory for the current length (no storage read), else from storage. */
  async treeHash (length: number = this.core.length): Promise<Buffer> {
    const roots = length === this.core.length ? currentRoots(this.core) : null
    return roots ? treeHashOf(roots) : await this.core.treeHash(length)
  }

  /**
   * Signs a head statement (protocol/head.ts) pairing the log at `length`
   * with the files drive's database core at `filesLength` (host only). The
   * caller picks the two lengths at one consistent point (the host: between
   * group commits).
   */
  async signHead (length: number, fork: number, filesLength: number): Promise<HeadStatement> {
    const kp = this.core.keyPair
    const drive = this.drive
    if (!kp || !kp.secretKey || !drive) throw VmsError.INTERNAL('log is not writable')
    const body = { contract: this.key, length, fork, treeHash: await this.core.treeHash(length), filesLength, filesTreeHash: await drive.core.treeHash(filesLength) }
    return { ...body, signature: sign(headSignable(body), kp.secretKey) }
  }

  /** Drive version and tree hash of the drive's database core at `version`. */
  async filesState (version: number): Promise<{ version: number, hash: Buffer }> {
    const drive = this.drive
    if (!drive) throw VmsError.INTERNAL('files drive is not open')
    return { version, hash: await drive.core.treeHash(version) }
  }

  /** Removes the pending marker (after the host undid a batch itself). */
  async clearPending (): Promise<void> {
    await this.core.setUserData(PENDING_KEY, null)
  }

  /** Undo a batch whose records never reached the log (see the module doc). */
  private async recover (): Promise<void> {
    const drive = this.drive
    if (!drive) return
    const raw = await this.core.getUserData(PENDING_KEY)
    const lastLogged = await this.lastFilesVersion()
    if (raw) {
      const marker = c.decode(pendingMarker, raw)
      if (this.core.length <= marker.logLength && drive.version > marker.filesVersion) {
        this.recovery.undoneBlocks = drive.version - marker.filesVersion
        await drive.truncate(marker.filesVersion)
      }
      await this.core.setUserData(PENDING_KEY, null)
    }
    if (lastLogged !== null && drive.version > lastLogged) this.recovery.unloggedEdit = true
  }

  /** Drive version after the last logged call (or at genesis); null for an empty log. */
  async lastFilesVersion (): Promise<number | null> {
    if (this.core.length === 0) return null
    const last = await this.block(this.core.length - 1)
    return last.type === 'genesis' ? last.genesis.filesVersion : last.call.filesAfter
  }
}

/**
 * Decodes one call log block.
 * @throws VmsError BAD_RECORD naming the block index
 */
export function decodeBlock (buf: Uint8Array, index: number): LogBlock {
  try {
    return c.decode(logBlock, buf)
  } catch (err) {
    throw VmsError.BAD_RECORD(`block ${index}: ${(err as Error).message}`)
  }
}

/**
 * The call record in the bytes of block `index`, or null when they hold
 * another record (the read-ahead of judges and replays reads blocks
 * through this).
 * @throws VmsError BAD_RECORD when the bytes do not decode
 */
export function decodeCall (raw: Uint8Array, index: number): CallRecord | null {
  const b = decodeBlock(raw, index)
  return b.type === 'call' ? b.call : null
}

/**
 * The genesis record in the bytes of block 0, or null when they hold
 * another record (evidence and replicas read block 0 through this).
 * @throws VmsError BAD_RECORD when the bytes do not decode
 */
export function decodeGenesis (raw: Uint8Array): GenesisRecord | null {
  const b = decodeBlock(raw, 0)
  return b.type === 'genesis' ? b.genesis : null
}
