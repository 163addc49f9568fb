/**
 * Calls a host keeps in flight in its sandbox while a group runs
 * (group-commit.ts). The sandbox runs them in order, one at a time (both
 * sandboxes queue calls FIFO), and a call reads the files only once the
 * writes of the call before it are in the group ({@link FilesAfter}), so
 * each call reads and does what it would one call at a time. The host just
 * does not wait between two calls: not for a round trip to a sandbox
 * process, and not for its own work on the last call's outcome (the record,
 * the drive batch) while the sandbox could run the next one.
 *
 * When a call ends the sandbox (a limit, a record too large), the calls
 * asked after it are not run: their reads fail ({@link WritesIn.drop}),
 * their outcomes are dropped, and the host asks them again after the
 * rebuild, as it did for the calls it had not asked yet.
 */

import { VmsError } from '../errors.js'
import { noop } from '../noop.js'
import type { FileStat, FilesView } from '../runtime/types.js'

/** Calls the host asks of its sandbox before the first of them is done, at most. */
export const HOST_CALL_DEPTH = 8

/**
 * The point the next call's reads wait for: this call's writes are in the
 * group, or they never will be (the next call then is not run).
 */
export class WritesIn {
  /** Settles at {@link WritesIn.done}; rejects with VmsError CLOSED at {@link WritesIn.drop}. */
  readonly promise: Promise<void>
  private resolve!: () => void
  private reject!: (err: Error) => void

  constructor () {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    this.promise.catch(noop) // only a read of the next call waits for it
  }

  /** The call's writes are in the group: the next call's reads go on. */
  done (): void {
    this.resolve()
  }

  /** The next call will not run (asked again later): its reads fail with CLOSED. No-op after {@link done}. */
  drop (): void {
    this.reject(VmsError.CLOSED('a call before it in the group ended the sandbox'))
  }
}

/** `files`, read only once `ready` settled; each read rejects with what `ready` rejected with. */
export class FilesAfter implements FilesView {
  private readonly files: FilesView
  private readonly ready: Promise<void>

  /**
   * @param files the group's view (group-commit.ts)
   * @param ready {@link WritesIn.promise} of the call before
   */
  constructor (files: FilesView, ready: Promise<void>) {
    this.files = files
    this.ready = ready
  }

  /** See {@link FilesView.read}, after `ready`. */
  async read (path: string): Promise<Uint8Array | null> {
    await this.ready
    return await this.files.read(path)
  }

  /** See {@link FilesView.stat}, after `ready`. */
  async stat (path: string): Promise<FileStat | null> {
    await this.ready
    return await this.files.stat(path)
  }

  /** See {@link FilesView.readdir}, after `ready`. */
  async readdir (path: string): Promise<string[]> {
    await this.ready
    return await this.files.readdir(path)
  }
}
