/**
 * `vms-node call <key> <method> [args...]` and `vms-node info <key>`.
 */

import { VmsClient, type ClientOptions } from '../client.js'
import { formatKey, parseKey } from '../keys.js'
import { describeDht } from './dht-check.js'
import { VmsError } from '../errors.js'
import type { Output } from './output.js'
import { describeFreshness, freshnessJSON } from './freshness-text.js'

const JSON_WORDS = ['true', 'false', 'null']

/**
 * Whether command-line text looks like JSON, so it must parse as JSON:
 * it starts with `{`, `[`, `"`, a digit or `-`, or it is `true`, `false`,
 * `null`, a prefix of one of them of 2 or more letters (`tru`, `nul`), in
 * any letter case (`True`).
 */
export function looksLikeJson (text: string): boolean {
  const t = text.trim()
  if (/^[[{"0-9-]/.test(t)) return true
  const w = t.toLowerCase()
  return w.length >= 2 && JSON_WORDS.some((word) => word.startsWith(w))
}

/**
 * Parses command-line call arguments: text that looks like JSON (see
 * {@link looksLikeJson}) is parsed as JSON (`true`, `42`, `"text"`,
 * `{"a":1}`); any other text is that plain string (`bob`, `hello world`).
 * @throws VmsError BAD_ARGUMENT naming the argument when text looks like
 *   JSON but does not parse, before anything is signed or sent
 */
export function parseCliArgs (args: readonly string[]): unknown[] {
  return args.map((a, i) => {
    if (!looksLikeJson(a)) return a
    try {
      return JSON.parse(a)
    } catch (err) {
      throw VmsError.BAD_ARGUMENT(`argument ${i + 1} ${JSON.stringify(a)} looks like JSON but does not parse (${(err as Error).message}); ` +
        'nothing was sent. Write a string that starts like JSON in JSON quotes, e.g. \'"tru"\'')
    }
  })
}

/**
 * Connects a client; a NOT_FOUND names the contract key in z-base32 and the DHT.
 * @throws VmsError from VmsClient.connect
 */
export async function connectClient (key: string, opts: ClientOptions): Promise<VmsClient> {
  try {
    return await VmsClient.connect(key, opts)
  } catch (err) {
    const e = VmsError.from(err)
    if (e.code !== 'NOT_FOUND') throw err
    throw VmsError.NOT_FOUND(`no host of ${formatKey(parseKey(key))} answered within ${opts.timeout ?? 5000} ms on ${describeDht(opts)}; is the host running on that DHT?`)
  }
}

/** The JSON text of a result, or null for `undefined` (print nothing). */
export function resultText (result: unknown): string | null {
  return result === undefined ? null : JSON.stringify(result, null, 2)
}

/**
 * Calls one method and prints its result: the JSON text (nothing for
 * `undefined`) and a receipt line `#index, log length N` on stderr; with
 * `--json`, `{"result":...,"index":N,"length":N}`.
 * A call that ran and failed, or whose quorum timed out, was logged: its
 * index is printed too (and kept on the thrown error as `index`).
 * @returns the result
 * @throws VmsError BAD_ARGUMENT (arguments), or from the call (see VmsClient.call),
 *   with `index` set when the call is in the log
 */
export async function runCall (key: string, method: string, args: readonly string[], opts: ClientOptions, out: Output): Promise<unknown> {
  const parsed = parseCliArgs(args)
  const client = await connectClient(key, opts)
  try {
    let result: unknown
    try {
      result = await client.call(method, ...parsed)
    } catch (err) {
      const receipt = client.lastReceipt
      if (receipt) {
        const e = VmsError.from(err)
        const where = e.code === 'QUORUM_TIMEOUT'
          ? `the call is in the log at index ${receipt.index} (log length ${receipt.root.length}); only the quorum is missing`
          : `the failed call is in the log at index ${receipt.index} (log length ${receipt.root.length})`
        if (!out.json) out.note(where)
        throw Object.assign(e, { index: receipt.index, length: receipt.root.length })
      }
      throw err
    }
    const receipt = client.lastReceipt
    if (out.json) out.object({ result: result ?? null, index: receipt?.index ?? null, length: receipt?.root.length ?? null })
    else {
      const text = resultText(result)
      if (text !== null) out.line(text)
      if (receipt) out.note(`#${receipt.index}, log length ${receipt.root.length}`)
    }
    return result
  } finally {
    await client.close()
  }
}

/**
 * Prints a contract's info (name, keys, methods, log length, runtime,
 * limits), all from the proven log: the genesis and root verified against
 * the contract key, the methods derived from the genesis source.
 */
export async function runInfo (key: string, opts: ClientOptions, out: Output): Promise<void> {
  const client = await connectClient(key, opts)
  try {
    const i = client.info
    const fresh = await client.freshness() // rehosting: host online or not, replicas, state as of
    const info = {
      contract: formatKey(i.contract),
      files: formatKey(i.files),
      name: i.name,
      methods: await client.provenMethods(),
      length: i.length,
      fork: i.fork,
      runtime: i.runtime,
      oracles: i.oracles,
      limits: i.limits,
      ...freshnessJSON(fresh)
    }
    if (out.json) out.object(info)
    else {
      out.line(`Host:     ${describeFreshness(fresh)}`)
      out.line(`Contract: ${info.contract} ("${info.name}")`)
      out.line(`Files:    ${info.files}`)
      out.line(`Methods:  ${info.methods.join(', ')}`)
      out.line(`Log:      ${info.length} ${info.length === 1 ? 'block' : 'blocks'}, fork ${info.fork}`)
      out.line(`Runtime:  ${info.runtime}`)
      out.line(`Oracles:  ${info.oracles ? 'on (trusted)' : 'off (trustless)'}`)
      out.line(`Limits:   ${info.limits.timeoutMs} ms, ${info.limits.memoryMb} MiB, args ${info.limits.maxArgsBytes} B, result ${info.limits.maxResultBytes} B, writes ${info.limits.maxWriteBytes} B, depth ${info.limits.maxDepth}, ${info.limits.maxEntries} entries, paths ${info.limits.maxPathBytes} B, errors ${info.limits.maxErrorBytes} B`)
    }
  } finally {
    await client.close()
  }
}
