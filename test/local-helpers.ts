/**
 * Test helpers without a network: a contract host on its own Corestore with
 * a caller that signs calls, and a watcher replicating the host's store over
 * an in-memory stream. Both are torn down with `t.teardown`.
 */

import Corestore from 'corestore'
import { NonceClock, signCall } from '../src/caller.js'
import type { KeyPair } from '../src/crypto.js'
import { ContractHost } from '../src/host/contract-host.js'
import { canonicalArgs } from '../src/json.js'
import { createSandbox, runtimeFingerprint } from '../src/runtime/sandbox.js'
import type { CallContext, CallOutcome, Limits, Sandbox, SandboxFactory } from '../src/runtime/types.js'
import { Watcher, type WatcherOptions } from '../src/watch/watcher.js'
import { identity, tmpdir } from './helpers.js'
import type { T } from './helpers.js'

/** What {@link localHost} returns. */
export interface LocalHost {
  host: ContractHost
  store: Corestore
  /** The identity {@link LocalHost.call} signs with. */
  caller: KeyPair
  /** The next nonce of `caller` (shared with `call`). */
  clock: NonceClock
  /** Calls `method` signed by `caller` with the next nonce. */
  call: (method: string, ...args: unknown[]) => ReturnType<ContractHost['call']>
}

/** A contract host (named `c`) on its own Corestore, no network. */
export async function localHost (t: T, source: string, opts: { factory?: SandboxFactory, limits?: Partial<Limits> } = {}): Promise<LocalHost> {
  const store = new Corestore(tmpdir(t))
  const host = new ContractHost({
    store: store.namespace('contract/c'),
    name: 'c',
    source,
    identity: identity(),
    sandboxFactory: opts.factory ?? createSandbox,
    runtime: runtimeFingerprint(),
    limits: opts.limits
  })
  t.teardown(async () => { await host.close(); await store.close() })
  await host.ready()
  const caller = identity()
  const clock = new NonceClock()
  const call = (method: string, ...args: unknown[]): ReturnType<ContractHost['call']> => host.call(signCall(caller, host.key, clock.next(), method, canonicalArgs(args)))
  return { host, store, caller, clock, call }
}

/** A watcher on its own Corestore, replicating `hostStore` over an in-memory stream. */
export async function localWatcher (t: T, hostStore: Corestore, opts: { factory?: SandboxFactory, stateDir?: string | null, storeDir?: string, watcher?: WatcherOptions } = {}): Promise<{ watcher: Watcher, store: Corestore, close: () => Promise<void> }> {
  const store = new Corestore(opts.storeDir ?? tmpdir(t))
  const a = hostStore.replicate(true) as NodeJS.ReadWriteStream & { destroy (): void }
  const b = store.replicate(false) as NodeJS.ReadWriteStream & { destroy (): void }
  a.pipe(b).pipe(a)
  const watcher = new Watcher({ ...opts.watcher, store, stateDir: opts.stateDir ?? null, sandboxFactory: opts.factory })
  const close = async (): Promise<void> => {
    await watcher.close()
    a.destroy()
    b.destroy()
    await store.close()
  }
  t.teardown(close)
  return { watcher, store, close }
}

/** `sb` with its calls made by `call` instead: a test's stand-in for one machine's (or one host's) behaviour. */
export function withCall (sb: Sandbox, call: (ctx: CallContext) => Promise<CallOutcome>): Sandbox {
  return {
    get methods () { return sb.methods },
    get usable () { return sb.usable },
    call,
    close: async () => await sb.close()
  }
}

/** A factory of `base`'s sandboxes whose calls `call` makes, given the real sandbox ({@link withCall}). */
export function factoryWithCall (base: SandboxFactory, call: (sb: Sandbox, ctx: CallContext) => Promise<CallOutcome>): SandboxFactory {
  return async (source, opts) => {
    const sb = await base(source, opts)
    return withCall(sb, async (ctx) => await call(sb, ctx))
  }
}
