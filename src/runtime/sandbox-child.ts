/**
 * Entry point of a sandbox process, started by sandbox-process.ts with
 * `node --no-node-snapshot --max-old-space-size=<MiB>`. It holds many
 * isolated-vm sandboxes (sandbox.ts), one per contract, and runs the calls
 * its supervisor sends. Each call's files overlay (overlay.ts) lives here;
 * reads of the files as they were before the call go back to the supervisor
 * over IPC. A fatal out-of-memory error or native crash of any isolate ends
 * this process only: the supervisor turns that into MEMORY_LIMIT outcomes
 * and rebuilds what it held elsewhere. Ends (SIGKILL to itself) when its
 * supervisor goes.
 */

import { VmsError } from '../errors.js'
import { createSandbox } from './sandbox.js'
import type { FromChild, PresetStats, ReadOp, ToChild } from './sandbox-ipc.js'
import type { FileStat, FilesView, Sandbox } from './types.js'

const sandboxes = new Map<number, Sandbox>()
const reads = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
let nextRead = 0

function send (msg: FromChild): void {
  if (process.send) process.send(msg)
}

/**
 * The files view of call `call`, read through the supervisor. The view is
 * the files before the call and does not change during it, so answers are
 * kept for the call: each path is asked for at most once per kind, and not
 * at all for a path whose stat came with the call.
 */
class RemoteFiles implements FilesView {
  private readonly call: number
  private readonly reads = new Map<string, Promise<Uint8Array | null>>()
  private readonly stats = new Map<string, Promise<FileStat | null>>()
  private readonly dirs = new Map<string, Promise<string[]>>()

  constructor (call: number, preset: PresetStats | undefined) {
    this.call = call
    for (const [path, st] of preset ?? []) if (!this.stats.has(path)) this.stats.set(path, Promise.resolve(st))
  }

  private ask (op: ReadOp, path: string): Promise<unknown> {
    const req = ++nextRead
    return new Promise((resolve, reject) => {
      reads.set(req, { resolve, reject })
      send({ t: 'read', req, call: this.call, op, path })
    })
  }

  read (path: string): Promise<Uint8Array | null> {
    let p = this.reads.get(path)
    if (!p) this.reads.set(path, p = this.ask('read', path) as Promise<Uint8Array | null>)
    return p
  }

  async stat (path: string): Promise<FileStat | null> {
    const r = this.reads.get(path)
    if (r) {
      const data = await r
      if (data !== null) return { type: 'file', size: data.byteLength }
    }
    let p = this.stats.get(path)
    if (!p) {
      p = (this.ask('stat', path) as Promise<StatReply>).then(({ value, ancestors }) => {
        for (const [dir, s] of ancestors ?? []) if (!this.stats.has(dir)) this.stats.set(dir, Promise.resolve(s))
        return value
      })
      this.stats.set(path, p)
    }
    return await p
  }

  readdir (path: string): Promise<string[]> {
    let p = this.dirs.get(path)
    if (!p) this.dirs.set(path, p = this.ask('readdir', path) as Promise<string[]>)
    return p
  }
}

type StatReply = { value: FileStat | null, ancestors?: Array<[string, FileStat | null]> }

async function onCreate (m: Extract<ToChild, { t: 'create' }>): Promise<void> {
  try {
    const sb = await createSandbox(m.source, m.opts)
    sandboxes.set(m.sb, sb)
    send({ t: 'created', req: m.req, methods: sb.methods })
  } catch (err) {
    send({ t: 'created', req: m.req, error: VmsError.from(err).toInfo() })
  }
}

async function onCall (m: Extract<ToChild, { t: 'call' }>): Promise<void> {
  const sb = sandboxes.get(m.sb)
  if (!sb) {
    send({ t: 'done', call: m.call, usable: false, error: VmsError.CLOSED('the sandbox is closed or was disposed by a limit').toInfo() })
    return
  }
  try {
    const outcome = await sb.call({ ...m.ctx, files: new RemoteFiles(m.call, m.stats) })
    send({ t: 'done', call: m.call, usable: sb.usable, outcome })
  } catch (err) {
    send({ t: 'done', call: m.call, usable: sb.usable, error: VmsError.from(err).toInfo() })
  }
  if (!sb.usable) sandboxes.delete(m.sb)
}

process.on('message', (m: ToChild) => {
  switch (m.t) {
    case 'create': onCreate(m).catch(fatal); break
    case 'call': onCall(m).catch(fatal); break
    case 'close': {
      const sb = sandboxes.get(m.sb)
      sandboxes.delete(m.sb)
      if (sb) sb.close().catch(fatal)
      break
    }
    case 'read': {
      const r = reads.get(m.req)
      if (!r) break
      reads.delete(m.req)
      if (m.ok) r.resolve(m.ancestors === undefined ? m.value : { value: m.value, ancestors: m.ancestors })
      else r.reject(new Error(m.message))
      break
    }
  }
})

/**
 * Ends this process at once. Never `process.exit()`: its exit handlers can
 * wait forever on isolate threads that are still running (seen: children
 * left asleep after their supervisor was killed). Nothing here needs saving.
 */
function die (): void {
  process.kill(process.pid, 'SIGKILL')
}

function fatal (err: unknown): void {
  // a failure of this process's own plumbing: end it, the supervisor rebuilds elsewhere
  process.stderr.write(`sandbox process: ${err instanceof Error ? err.stack : String(err)}\n`)
  die()
}

// the supervisor went away (killed, crashed or exited): so does this process,
// also when that happened while this module was still loading
process.on('disconnect', die)
if (!process.connected) die()
