/**
 * `--storage` folders for the commands: one clear error for a path that is
 * a file or a folder another process holds open, and no folder left behind
 * by a start that failed.
 */

import fs from 'node:fs'
import path from 'node:path'
import { VmsError } from '../errors.js'

/**
 * Checks a `--storage` path before anything opens it.
 * @param dir the folder (need not exist)
 * @returns whether the folder existed already
 * @throws VmsError BAD_ARGUMENT when the path (or a parent) is not a folder
 */
export function checkStorage (dir: string): boolean {
  const abs = path.resolve(dir)
  let st: fs.Stats | undefined
  try {
    st = fs.statSync(abs)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOTDIR') throw VmsError.BAD_ARGUMENT(`--storage ${abs}: a parent of it is a file, not a folder`)
    if (code !== 'ENOENT') throw VmsError.BAD_ARGUMENT(`--storage ${abs}: ${code ?? (err as Error).message}`)
  }
  if (st && !st.isDirectory()) throw VmsError.BAD_ARGUMENT(`--storage ${abs} is a file, not a folder: pass a folder (it is created if missing)`)
  return st !== undefined
}

/**
 * Names the folder and the cause of a storage failure: RocksDB's lock error
 * ("File descriptor could not be locked") means another process has it open.
 * @returns STORAGE_IN_USE for a held lock, the error unchanged otherwise
 */
export function storageError (err: unknown, dir: string): unknown {
  const msg = (err as { message?: unknown } | null)?.message
  if (typeof msg === 'string' && /could not be locked|lock hold by current process|Resource temporarily unavailable/i.test(msg)) {
    return VmsError.STORAGE_IN_USE(`${path.resolve(dir)} is in use by another vms-node process (stop it, or pass another --storage)`)
  }
  return err
}

/**
 * Removes a storage folder this run created, after a failed start.
 * @param dir the folder
 * @param existed what {@link checkStorage} said before the start
 */
export function removeNewStorage (dir: string, existed: boolean): void {
  if (!existed) fs.rmSync(path.resolve(dir), { recursive: true, force: true })
}
