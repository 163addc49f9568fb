/**
 * `vms-node repl <key>`: an interactive Node REPL with a connected `client`
 * object, as in the seeds (`> client.increment()` prints `1`). Promises are
 * awaited before printing. `--exec <code>` evaluates one expression instead.
 */

import repl from 'node:repl'
import vm from 'node:vm'
import util from 'node:util'
import type { ClientOptions, VmsClient } from '../client.js'
import { formatKey } from '../keys.js'
import { connectClient } from './call.js'
import { VmsError } from '../errors.js'
import type { Output } from './output.js'

/**
 * Rewrites REPL input that uses `await` at the top level into an async
 * function call, as Node's own REPL does: `await client.f()` and
 * `const x = await client.f()` (x becomes a REPL global).
 * @returns the code to run (unchanged when it has no `await`)
 */
export function wrapTopLevelAwait (code: string): string {
  if (!/\bawait\b/.test(code)) return code
  const body = code.trim().replace(/;\s*$/, '')
  const decl = /^(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*([\s\S]+)$/.exec(body)
  const candidates = decl
    ? [`(async () => { ${decl[1]} = (${decl[2]}); return undefined })()`]
    : [`(async () => (${body}))()`, `(async () => { ${body} })()`]
  for (const c of candidates) {
    try {
      new vm.Script(c) // eslint-disable-line no-new
      return c
    } catch {}
  }
  return code // let the real evaluation report the syntax error
}

/**
 * Evaluates `code` with `client` in scope, awaiting a promise result;
 * top-level `await` works (see {@link wrapTopLevelAwait}).
 * @throws whatever the code throws (VmsError from calls)
 */
export async function evalWithClient (code: string, context: vm.Context): Promise<unknown> {
  const value: unknown = vm.runInContext(wrapTopLevelAwait(code), context)
  return value && typeof (value as Promise<unknown>).then === 'function' ? await value : value
}

/**
 * The `client` the REPL offers: the connected VmsClient, where any unknown
 * name is a contract method (`client.nope()` fails with the host's
 * UNKNOWN_METHOD, as `vms-node call` does), and which prints as its
 * contract key and methods rather than its internals.
 */
export function replClient (client: VmsClient): VmsClient {
  const summary = (): string => `VmsClient ${formatKey(client.key)} { methods: ${client.methods.map((m) => m + '()').join(', ') || '(none)'}; also call(method, ...args), info, lastReceipt, checkReceipt(), close() }`
  Object.defineProperty(client, util.inspect.custom, { value: summary, enumerable: false })
  return new Proxy(client, {
    get (target, prop) {
      const v: unknown = Reflect.get(target, prop, target)
      if (v !== undefined || typeof prop !== 'string' || prop === 'then' || prop === 'toJSON') return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
      return async (...args: unknown[]) => await target.call(prop, ...args)
    }
  })
}

/** An error as the REPL shows it: `CODE: detail`, no stack of vms-node internals. */
function shown (err: unknown): Error {
  const e = VmsError.from(err)
  e.stack = `${e.name}: ${e.message}`
  return e
}

/**
 * Runs `--exec` code once and prints the result, or starts an interactive REPL.
 * Piped input ends cleanly: calls still running when the input ends are
 * awaited (and their results printed) before the client closes.
 * @returns when the REPL exits (or the exec finished)
 */
export async function runRepl (key: string, opts: ClientOptions & { exec?: string }, out: Output): Promise<void> {
  if (!opts.exec) out.note('Connecting...')
  const client = await connectClient(key, opts)
  const context = vm.createContext({ client: replClient(client), console })
  try {
    if (opts.exec) {
      const result = await evalWithClient(opts.exec, context)
      if (out.json) out.object({ result: result ?? null })
      else out.line(util.inspect(result, { depth: 6, colors: false }))
      return
    }
    out.note(`Connected. You can use the 'client' object to access the backend (methods: ${client.methods.join(', ')}).`)
    // one evaluation at a time, in input order (piped lines arrive before earlier calls return)
    let queue: Promise<unknown> = Promise.resolve()
    let closed = false
    const show = (v: unknown): string => util.inspect(v, { depth: 6, colors: false, showProxy: false })
    const server = repl.start({
      prompt: '> ',
      writer: show,
      eval: (cmd, _ctx, _file, cb) => {
        if (!cmd.trim()) return cb(null, undefined)
        try {
          new vm.Script(wrapTopLevelAwait(cmd)) // eslint-disable-line no-new
        } catch (err) {
          if (err instanceof SyntaxError && !closed) return cb(new repl.Recoverable(err), undefined)
        }
        queue = queue.then(() => evalWithClient(cmd, context)).then((v) => {
          if (closed) { if (v !== undefined) out.line(show(v)) } else cb(null, v)
        }, (err: unknown) => {
          const e = err as { code?: unknown }
          const error = typeof e?.code === 'string' ? shown(err) : err as Error
          if (closed) out.note('Uncaught ' + (error.stack ?? String(error)))
          else cb(error, undefined)
        })
      }
    })
    await new Promise<void>((resolve) => server.on('exit', () => resolve()))
    closed = true
    await queue
  } finally {
    await client.close()
  }
}
