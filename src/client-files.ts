/**
 * The client's proven view of a contract's files: the drive (a stock
 * Hyperdrive over the replicated cores, its key from the proven genesis)
 * checked out at the files version the verified log covers, never the
 * drive's raw head. Used by `VmsClient.openFiles()` and `read()`.
 *
 * The covered version: take the latest root signed by the contract's
 * signer (with `quorum`, the longest one that many watchers attested over
 * the same tree); read the last block of the replicated log at that length
 * (Hypercore verifies it against the contract key, and its tree hash there
 * must be the root's); its files version (a call record's `filesAfter`,
 * or the genesis `filesVersion`) is the version read, and the drive's tree
 * hash there must be the record's `filesHash`.
 */

import Hyperdrive from 'hyperdrive'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import type { RootStatement } from '../protocol/index.js'
import { VmsError } from './errors.js'
import { withTimeout } from './timeout.js'
import { decodeBlock } from './log/contract-log.js'
import { coveringWatchers, waitForQuorum, type Coverage } from './attest/quorum.js'
import { VERDICT_OK } from '../protocol/index.js'
import type { AttestationStore } from './attest/store.js'
import safetyCatch from 'safety-catch'

/** What {@link CoveredFiles} needs of its client. */
export interface FilesContext {
  store: Corestore
  /** The replicated call log. */
  core: Hypercore
  attestations: AttestationStore
  /** ms to wait for blocks and updates. */
  timeout: number
  /** Watchers whose ok must cover the version read (0: none). */
  quorum: number
  /** ms to wait for them. */
  quorumTimeout: number
  faultQuorum: number
  /** The files key from the proven genesis. */
  filesKey (): Uint8Array
  /** A verified root (0: the current one); throws FORGED_REPLY / NOT_FOUND. */
  root (length?: number): Promise<RootStatement>
  /** What attestations must cover for `root`. */
  coverage (root: RootStatement): Coverage
  /** The last call's verified root, if any. */
  receipt (): RootStatement | null
}

/** See the module doc. */
export class CoveredFiles {
  private readonly ctx: FilesContext
  private drive: Hyperdrive | null = null
  private readonly checkouts = new Map<number, Hyperdrive>()

  /** @param ctx see {@link FilesContext} */
  constructor (ctx: FilesContext) {
    this.ctx = ctx
  }

  /**
   * The drive checked out at the covered version.
   * @returns the checkout, its files version and the root that covers it
   * @throws VmsError FORGED_REPLY / NOT_FOUND / REQUEST_TIMEOUT when no peer
   *   proved a root or the log's block did not replicate, QUORUM_TIMEOUT,
   *   BAD_RECORD when the log or drive there is not what the root and the
   *   record name
   */
  async covered (): Promise<{ drive: Hyperdrive, version: number, root: RootStatement }> {
    const { core, timeout } = this.ctx
    let root = await this.ctx.root()
    if (this.ctx.quorum > 0) root = await this.attestedRoot(root)
    const length = root.length
    if (core.length < length) await withTimeout(core.update({ wait: true }), timeout).catch(safetyCatch)
    const raw = await core.get(length - 1, { timeout }).catch(() => null)
    if (!raw) throw VmsError.REQUEST_TIMEOUT(`block ${length - 1} of the log did not replicate in ${timeout} ms`)
    if (core.length >= length && !Buffer.from(await withTimeout(core.treeHash(length), timeout)).equals(Buffer.from(root.treeHash))) {
      throw VmsError.BAD_RECORD(`the replicated log at length ${length} is not the one its signed root names`)
    }
    const last = decodeBlock(raw, length - 1)
    const version = last.type === 'genesis' ? last.genesis.filesVersion : last.call.filesAfter
    if (!this.drive) {
      this.drive = new Hyperdrive(this.ctx.store, this.ctx.filesKey())
      await this.drive.ready()
    }
    let drive = this.checkouts.get(version)
    if (!drive) {
      drive = this.drive.checkout(version)
      await drive.ready()
      this.checkouts.set(version, drive)
    }
    if (last.type === 'call' && version > 0) {
      const db = this.drive.core
      if (db.length < version) await withTimeout(db.update({ wait: true }), timeout).catch(safetyCatch)
      if (db.length >= version) {
        const hash = await withTimeout(db.treeHash(version), timeout)
        if (!Buffer.from(hash).equals(Buffer.from(last.call.filesHash))) throw VmsError.BAD_RECORD(`the files drive at version ${version} is not the one log block ${length - 1} names`)
      }
    }
    return { drive, version, root }
  }

  /** Closes the drive and its checkouts. */
  async close (): Promise<void> {
    for (const d of this.checkouts.values()) await d.close().catch(safetyCatch)
    this.checkouts.clear()
    if (this.drive) await this.drive.close()
    this.drive = null
  }

  /**
   * With `quorum`: the longest root (up to `latest`) covered by `quorum`
   * watchers' ok attestations, each checked against the replicated log
   * (quorum.ts `covers`); else waits up to `quorumTimeout` for them to
   * cover the last receipt (or `latest`).
   */
  private async attestedRoot (latest: RootStatement): Promise<RootStatement> {
    const { attestations, quorum } = this.ctx
    const lengths = attestations.latest(latest.contract).filter((a) => a.verdict === VERDICT_OK && a.length <= latest.length).map((a) => a.length)
    for (const len of [...new Set(lengths)].sort((a, b) => b - a)) {
      const root = len === latest.length ? latest : await this.ctx.root(len)
      if ((await coveringWatchers(attestations, this.ctx.coverage(root))).length >= quorum) return root
    }
    const receipt = this.ctx.receipt()
    const root = receipt && receipt.length <= latest.length ? receipt : latest
    await waitForQuorum(attestations, latest.contract, this.ctx.coverage(root), quorum, this.ctx.quorumTimeout, this.ctx.faultQuorum)
    return root
  }
}
