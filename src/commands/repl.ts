/**
 * `vms-node repl <key>`: an interactive Node REPL with a connected `client`
 * object, as in the seeds (`> client.increment()` prints `1`). Promises are
 * awaited before printing. `--exec <code>` evaluates one expression instead.
 */

import repl from 'node:repl'
import vm from 'node:vm'
import util from 'node:util'
import type { ClientOptions } from '../client.js'
import { connectClient } from './call.js'
import { VmsError } from '../errors.js'
import type { Output } from './output.js'

/**
 * Evaluates `code` with `client` in scope, awaiting a promise result.
 * @throws whatever the code throws (VmsError from calls)
 */
export async function evalWithClient (code: string, context: vm.Context): Promise<unknown> {
  const value: unknown = vm.runInContext(code, context)
  return value && typeof (value as Promise<unknown>).then === 'function' ? await value : value
}

/**
 * Runs `--exec` code once and prints the result, or starts an interactive REPL.
 * @returns when the REPL exits (or the exec finished)
 */
export async function runRepl (key: string, opts: ClientOptions & { exec?: string }, out: Output): Promise<void> {
  if (!opts.exec) out.note('Connecting...')
  const client = await connectClient(key, opts)
  const context = vm.createContext({ client, console })
  try {
    if (opts.exec) {
      const result = await evalWithClient(opts.exec, context)
      if (out.json) out.object({ result: result ?? null })
      else out.line(util.inspect(result, { depth: 6, colors: false }))
      return
    }
    out.note(`Connected. You can use the 'client' object to access the backend (methods: ${client.methods.join(', ')}).`)
    const server = repl.start({
      prompt: '> ',
      eval: (cmd, _ctx, _file, cb) => {
        if (!cmd.trim()) return cb(null, undefined)
        evalWithClient(cmd, context).then((v) => cb(null, v), (err: unknown) => {
          const e = err as { code?: string, message?: string }
          if (e instanceof SyntaxError) return cb(new repl.Recoverable(e), undefined)
          cb(e.code ? VmsError.from(err) : err as Error, undefined)
        })
      }
    })
    await new Promise<void>((resolve) => server.on('exit', () => resolve()))
  } finally {
    await client.close()
  }
}
