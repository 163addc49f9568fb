/**
 * Host side of `System.files`: the one host function the isolate calls for
 * every files operation, dispatching on an operation name. The isolate
 * blocks on each operation until its answer arrives (applySyncPromise), so
 * operations run strictly one after another in the order the contract
 * started them (even unawaited ones), and their effects and the order in
 * which their results reach the contract do not depend on storage latency.
 */

import { VmsError } from '../errors.js'
import type { CallFiles } from './overlay.js'
import { normalisePath } from './paths.js'

/** What the isolate gets back: `[0, value]` on success, `[1, code, message]` on failure. */
export type FilesReply = [0, unknown] | [1, string, string]

/** Codes of failures the contract caused; anything else is a failure of the host's files view. */
const CONTRACT_CODES = new Set(['ENOENT', 'EEXIST', 'ENOTDIR', 'EISDIR', 'ENOTEMPTY', 'EINVAL', 'WRITES_TOO_LARGE'])

/** Encodings `readFile` accepts (`undefined` means utf8). */
const READ_ENCODINGS = new Set(['utf8', 'utf-8', 'json', 'binary', 'base64', 'hex'])

/** Dispatches the files operations of one call over a {@link CallFiles}, one at a time. */
export class FilesApi {
  /** The call's files (overlay, writes, byte count). */
  readonly files: CallFiles
  /**
   * Set when the files view itself failed (storage error, closed drive...):
   * not the contract's doing, so the call must not be recorded as its outcome.
   */
  hostError: VmsError | null = null
  private active = false

  /** @param files the call's view + overlay */
  constructor (files: CallFiles) {
    this.files = files
  }

  /**
   * Runs one operation; never rejects. An operation that arrives while
   * another runs is refused (EINVAL): the isolate never sends two at once.
   * Operations and their arguments (as the bootstrap sends them):
   * - `read` (path, encoding): string, or Uint8Array for `binary`; `json` gives the text
   * - `write` (path, data: string | Uint8Array, encoding): undefined
   * - `mkdir` (path), `unlink` (path), `rmdir` (path, recursive: boolean): undefined
   * - `readdir` (path): string[]; `stat` (path): [type, size]; `exists` (path): boolean
   * Errors come back as `[1, code, message]` with the VmsError codes ENOENT,
   * EEXIST, ENOTDIR, EISDIR, ENOTEMPTY, EINVAL, WRITES_TOO_LARGE; a failure of
   * the view itself comes back as INTERNAL and is kept in {@link hostError}.
   */
  async exec (op: string, path: unknown, a: unknown, b: unknown): Promise<FilesReply> {
    if (this.active) return [1, 'EINVAL', 'EINVAL: concurrent files operations']
    this.active = true
    try {
      return await this.run(op, path, a, b)
    } finally {
      this.active = false
    }
  }

  private async run (op: string, rawPath: unknown, a: unknown, b: unknown): Promise<FilesReply> {
    try {
      const path = normalisePath(rawPath, this.files.limits.maxPathBytes)
      const f = this.files
      switch (op) {
        case 'read': return [0, decode(await f.read(path), readEncoding(a))]
        case 'write': await f.write(path, encode(a, b)); return [0, null]
        case 'mkdir': await f.mkdir(path); return [0, null]
        case 'readdir': return [0, await f.readdir(path)]
        case 'stat': {
          const s = await f.find(path)
          if (s === null) throw VmsError.ENOENT(path)
          return [0, [s.type, s.size]]
        }
        case 'unlink': await f.unlink(path); return [0, null]
        case 'rmdir': await f.rmdir(path, a === true); return [0, null]
        case 'exists': return [0, (await f.find(path)) !== null]
        default: throw VmsError.EINVAL(`unknown files operation ${String(op)}`)
      }
    } catch (err) {
      if (err instanceof VmsError && CONTRACT_CODES.has(err.code)) return [1, err.code, err.message]
      const e = VmsError.INTERNAL(`files view failed: ${err instanceof Error ? err.message : String(err)}`)
      if (this.hostError === null) this.hostError = e
      return [1, e.code, e.message]
    }
  }
}

function readEncoding (enc: unknown): string {
  if (enc === undefined || enc === null) return 'utf8'
  if (typeof enc !== 'string' || !READ_ENCODINGS.has(enc)) throw VmsError.EINVAL(`unknown encoding ${String(enc)}`)
  return enc
}

/** File bytes as the contract asked for them. */
function decode (data: Uint8Array, enc: string): string | Uint8Array {
  if (enc === 'binary') {
    // a fresh, exactly-sized array: never copy a pooled or larger buffer into the isolate
    return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice()
  }
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (enc === 'base64' || enc === 'hex') return buf.toString(enc)
  return buf.toString('utf8')
}

/**
 * Bytes to store for `writeFile(path, data, enc)`. Strings are UTF-8 unless
 * `enc` is `base64` or `hex` (then decoded); the bootstrap already turned
 * typed arrays into Uint8Array and other values into JSON text.
 */
function encode (data: unknown, enc: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data
  if (typeof data !== 'string') throw VmsError.EINVAL('data must be a string or bytes')
  if (enc === 'base64' || enc === 'hex') return new Uint8Array(Buffer.from(data, enc))
  if (enc === undefined || enc === null || enc === 'utf8' || enc === 'utf-8' || enc === 'json' || enc === 'binary') {
    return new Uint8Array(Buffer.from(data, 'utf8'))
  }
  throw VmsError.EINVAL(`unknown encoding ${String(enc)}`)
}
