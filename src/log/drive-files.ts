/**
 * The contract's files as the sandbox sees them: a {@link FilesView} over a
 * Hyperdrive (the live drive, a batch holding earlier calls' writes, or a
 * checkout at a recorded version), and the code that applies a call's
 * {@link FileOp}s to a drive.
 *
 * Directories made by `System.files.mkdir` are drive entries with no blob and
 * `metadata: { vms: 'dir' }`; a stock Hyperdrive lists them as names and
 * returns null for their content.
 */

import type Hyperdrive from 'hyperdrive'
import type { HyperdriveEntry } from 'hyperdrive'
import type { FileOp, FileStat, FilesView } from '../runtime/types.js'
import { DIR_METADATA } from '../../protocol/index.js'

/** Where a file's content lies in the drive's blob core (a Hyperdrive entry's `value.blob`). */
export type BlobId = NonNullable<HyperdriveEntry['value']['blob']>

/** True for a drive entry that marks a directory. */
export function isDirEntry (entry: HyperdriveEntry | null): boolean {
  const meta = entry?.value.metadata as { vms?: unknown } | null | undefined
  return !!entry && !entry.value.blob && !!meta && meta.vms === DIR_METADATA.vms
}

/** A read-only {@link FilesView} over a Hyperdrive (or a batch or checkout of one). */
export class DriveFiles implements FilesView {
  readonly drive: Hyperdrive

  /** @param drive the drive to read; not closed by this view */
  constructor (drive: Hyperdrive) {
    this.drive = drive
  }

  async read (path: string): Promise<Uint8Array | null> {
    const entry = await this.drive.entry(path)
    if (!entry || !entry.value.blob) return null
    return await this.drive.get(path)
  }

  async stat (path: string): Promise<FileStat | null> {
    if (path === '/') return { type: 'directory', size: 0 }
    const entry = await this.drive.entry(path)
    if (entry) {
      if (entry.value.blob) return { type: 'file', size: entry.value.blob.byteLength }
      if (isDirEntry(entry)) return { type: 'directory', size: 0 }
    }
    for await (const name of this.drive.readdir(path)) {
      if (name) return { type: 'directory', size: 0 }
    }
    return null
  }

  async readdir (path: string): Promise<string[]> {
    const names: string[] = []
    for await (const name of this.drive.readdir(path)) names.push(name)
    return names.sort(compareCodeUnits)
  }
}

/**
 * Applies a call's file changes to a drive (usually a `drive.batch()`), in order.
 * @param drive writable drive or batch
 * @param writes the call's ops
 */
export async function applyWrites (drive: Hyperdrive, writes: readonly FileOp[]): Promise<void> {
  for (const w of writes) {
    switch (w.op) {
      case 'put': await drive.put(w.path, w.data); break
      case 'del': await drive.del(w.path); break
      case 'mkdir': await drive.putEntry(w.path, { metadata: DIR_METADATA }); break
      case 'rmdir': await drive.del(w.path); break
    }
  }
}

function compareCodeUnits (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
