/**
 * `vms-node call <key> <method> [args...]` and `vms-node info <key>`.
 */

import { VmsClient, type ClientOptions } from '../client.js'
import { formatKey } from '../keys.js'
import type { Output } from './output.js'
import { describeFreshness, freshnessJSON } from './freshness-text.js'

/**
 * Parses command-line call arguments: each is JSON when it parses as JSON
 * (`true`, `42`, `"text"`, `{"a":1}`), otherwise the plain string.
 */
export function parseCliArgs (args: readonly string[]): unknown[] {
  return args.map((a) => {
    try {
      return JSON.parse(a)
    } catch {
      return a
    }
  })
}

/**
 * Calls one method and prints its result (JSON text; with `--json`,
 * `{"result":...,"index":N,"length":N}`).
 * @returns the result
 * @throws VmsError from the call (see VmsClient.call)
 */
export async function runCall (key: string, method: string, args: readonly string[], opts: ClientOptions, out: Output): Promise<unknown> {
  const client = await VmsClient.connect(key, opts)
  try {
    const result = await client.call(method, ...parseCliArgs(args))
    const receipt = client.lastReceipt
    if (out.json) out.object({ result: result ?? null, index: receipt?.index ?? null, length: receipt?.root.length ?? null })
    else out.line(result === undefined ? 'undefined' : JSON.stringify(result, null, 2))
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
  const client = await VmsClient.connect(key, opts)
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
      out.line(`Log:      ${info.length} blocks, fork ${info.fork}`)
      out.line(`Runtime:  ${info.runtime}`)
      out.line(`Oracles:  ${info.oracles ? 'on (trusted)' : 'off (trustless)'}`)
      out.line(`Limits:   ${info.limits.timeoutMs} ms, ${info.limits.memoryMb} MiB, args ${info.limits.maxArgsBytes} B, result ${info.limits.maxResultBytes} B, writes ${info.limits.maxWriteBytes} B, depth ${info.limits.maxDepth}, ${info.limits.maxEntries} entries, paths ${info.limits.maxPathBytes} B, errors ${info.limits.maxErrorBytes} B`)
    }
  } finally {
    await client.close()
  }
}
