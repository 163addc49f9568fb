/**
 * The `vms-node` command line: argument parsing only. Every command is a
 * function in src/commands/ that others can call.
 *
 * Bad input (no such file, syntax error in a contract, unknown key,
 * unreachable host) prints one line `vms-node: CODE: detail` on stderr and
 * exits non-zero; set VMS_DEBUG=1 for stack traces.
 */

import path from 'node:path'
import { Command, Option, InvalidArgumentError } from 'commander'
import goodbye from 'graceful-goodbye'
import { VmsError } from './errors.js'
import { parseBootstrap, type NetOptions } from './net/swarm.js'
import { processOutput } from './commands/output.js'
import { runDevnet } from './commands/devnet.js'
import { runHost } from './commands/host.js'
import { parseCliArgs, runCall, runInfo } from './commands/call.js'
import { parseKey } from './keys.js'
import { runRepl } from './commands/repl.js'
import { runCheck } from './commands/check.js'
import { loadTui, wantsTui } from './commands/tui-choice.js'
import { runVerify } from './commands/verify.js'
import { runWatch } from './commands/watch.js'
import { runAttestations } from './commands/attestations.js'
import { VERSION } from './version.js'
import { runHostNode } from './commands/host-public.js'
import { runDeploy, runUndeploy } from './commands/deploy.js'
import { runContracts } from './commands/contracts.js'
import { readDeployersFile } from './host/deploy-policy.js'
import { DEFAULT_LIMITS } from './runtime/types.js'
import { probeDht, requireDht, BOOTSTRAP_HINT, DHT_PROBE_MS } from './commands/dht-check.js'

interface CommonFlags {
  bootstrap?: string
  bindHost?: string
  json?: boolean
  identity?: string
  timeout?: number
  storage?: string
}

function int (name: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number`)
    return n
  }
}

function net (flags: CommonFlags): NetOptions {
  return {
    bootstrap: parseBootstrap(flags.bootstrap ?? process.env.VMS_BOOTSTRAP),
    bindHost: flags.bindHost
  }
}

function withNetwork (cmd: Command): Command {
  return cmd
    .option('--bootstrap <host:port,...>', 'DHT bootstrap nodes (default: $VMS_BOOTSTRAP, else the public DHT)')
    .option('--bind-host <ip>', 'interface the DHT binds to', '127.0.0.1')
    .option('--json', 'print one JSON object per line')
}

function withCaller (cmd: Command): Command {
  return withNetwork(cmd)
    .option('--identity <file>', 'caller key pair file, created on first use (default: ~/.vms-node/identity.json)')
    .option('--timeout <ms>', 'connect and call timeout in ms', int('--timeout'), 5000)
    .option('--storage <dir>', 'keep the replicated log and files here (default: a temporary folder)')
}

function withAudit (cmd: Command): Command {
  return withNetwork(cmd)
    .option('--storage <dir>', 'watcher storage: replicated cores, judged positions, attestations (default: a temporary folder)')
    .option('--timeout <ms>', 'ms to find a host, for each block to arrive, and for root requests', int('--timeout'), 10000)
    .option('--source <file>', 'contract source the log must run (genesis fault otherwise)')
    .option('--source-hash <hex>', 'BLAKE2b-256 of the contract source the log must run')
}

interface PublicFlags {
  acceptDeploys?: boolean
  deployers?: string
  maxContracts?: number
  maxPerDeployer?: number
  maxStorageBytes?: number
  deployRate?: number
}

/** The deploy policy of `host` flags; the limit flags are also the maxima a deploy may ask for. */
function policyOptions (flags: PublicFlags, limits: Record<string, number | undefined>) {
  return {
    deployers: flags.deployers ? readDeployersFile(flags.deployers) : null,
    maxContracts: flags.maxContracts,
    maxPerDeployer: flags.maxPerDeployer,
    maxStorageBytes: flags.maxStorageBytes,
    maxLimits: limits,
    rate: flags.deployRate !== undefined ? { count: flags.deployRate, perMs: 60_000 } : undefined
  }
}

type AuditFlags = CommonFlags & { source?: string, sourceHash?: string, tui?: boolean }

function auditOptions (flags: AuditFlags) {
  return { ...net(flags), storage: flags.storage, timeout: flags.timeout, source: flags.source, sourceHash: flags.sourceHash }
}

/**
 * Prints one error and exits: `vms-node: CODE: detail` on stderr, or with
 * `--json` `{"error":{"code","message"},"index":N|null}` on stdout (the
 * index of the call record when a failed call was logged). Exit 2 when
 * nothing answered (NOT_FOUND, REQUEST_TIMEOUT, NO_DHT), 1 otherwise.
 */
function fail (err: unknown, json = false): never {
  const e = VmsError.from(err)
  const index = (err as { index?: unknown } | null)?.index
  if (json) process.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message }, index: typeof index === 'number' ? index : null }) + '\n')
  else process.stderr.write(`vms-node: ${e.message}\n`)
  if (process.env.VMS_DEBUG) process.stderr.write(String((err as Error).stack) + '\n')
  process.exit(e.code === 'NOT_FOUND' || e.code === 'REQUEST_TIMEOUT' || e.code === 'NO_DHT' ? 2 : 1)
}

async function action (fn: () => Promise<unknown>, flags: { json?: boolean } = {}): Promise<void> {
  try {
    await fn()
  } catch (err) {
    fail(err, !!flags.json)
  }
}

// a closed pipe (`vms-node info ... | head`) ends the command quietly
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})

const program = new Command('vms-node')
  .description('Host auditable contracts on the Hyperswarm DHT; call, inspect and audit them.')
  .version(VERSION)
  .showHelpAfterError()

program.command('devnet')
  .description('run a local DHT bootstrap that stays up; prints its host:port')
  .option('--port <port>', 'UDP port of the bootstrap node', int('--port'), 49737)
  .option('--host <ip>', 'interface to bind', '127.0.0.1')
  .option('--nodes <n>', 'DHT nodes to run (min 3)', int('--nodes'), 3)
  .option('--json', 'print one JSON object per line')
  .action((flags: { port: number, host: string, nodes: number, json?: boolean }) => action(async () => {
    const { testnet } = await runDevnet(flags, processOutput(!!flags.json))
    goodbye(() => testnet.destroy())
  }, flags))

withNetwork(program.command('host'))
  .description('deploy (or reopen) contracts and serve their methods; with --accept-deploys also contracts others deploy')
  .argument('[contract.js...]', 'contract source files (CommonJS)')
  .option('--storage <dir>', 'where the call log, files and operator identity live', '.vms-node')
  .option('--name <name>', 'contract name in the storage (default: the file name)')
  .option('--oracles', 'enable System.oracle (the contract becomes trusted, not trustless)')
  .option('--timeout-ms <ms>', `deadline of one call, ms (default: ${DEFAULT_LIMITS.timeoutMs})`, int('--timeout-ms'))
  .option('--memory-mb <mb>', `isolate memory limit, MiB (default: ${DEFAULT_LIMITS.memoryMb})`, int('--memory-mb'))
  .option('--max-args-bytes <n>', `largest argument list, bytes (default: ${DEFAULT_LIMITS.maxArgsBytes})`, int('--max-args-bytes'))
  .option('--max-result-bytes <n>', `largest result, bytes (default: ${DEFAULT_LIMITS.maxResultBytes})`, int('--max-result-bytes'))
  .option('--max-write-bytes <n>', `largest total one call adds to the files (content, paths, 64 bytes per entry), bytes (default: ${DEFAULT_LIMITS.maxWriteBytes})`, int('--max-write-bytes'))
  .option('--max-depth <n>', `deepest nesting of arguments, results and JSON writes (default: ${DEFAULT_LIMITS.maxDepth})`, int('--max-depth'))
  .option('--max-entries <n>', `most file changes one call may make (default: ${DEFAULT_LIMITS.maxEntries})`, int('--max-entries'))
  .option('--max-path-bytes <n>', `longest file path, UTF-8 bytes (default: ${DEFAULT_LIMITS.maxPathBytes})`, int('--max-path-bytes'))
  .option('--max-error-bytes <n>', `longest recorded error message, UTF-8 bytes; longer ones are cut (default: ${DEFAULT_LIMITS.maxErrorBytes})`, int('--max-error-bytes'))
  .option('--accept-deploys', 'host contracts others deploy onto this node (vms-node deploy --to <node key>)')
  .option('--deployers <file>', 'allowlist: deployer keys, one a line (default: anyone may deploy)')
  .option('--max-contracts <n>', 'most deployed contracts in total (default 64)', int('--max-contracts'))
  .option('--max-per-deployer <n>', 'most contracts one deployer may have here (default 8)', int('--max-per-deployer'))
  .option('--max-storage-bytes <n>', 'per deployed contract: log plus files, bytes (default 64 MiB)', int('--max-storage-bytes'))
  .option('--deploy-rate <n>', 'most deploys per deployer per minute (default 10)', int('--deploy-rate'))
  .addOption(new Option('--no-tui', 'plain output even on a terminal'))
  .action((files: string[], flags: CommonFlags & PublicFlags & { storage: string, name?: string, oracles?: boolean, tui?: boolean, timeoutMs?: number, memoryMb?: number, maxArgsBytes?: number, maxResultBytes?: number, maxWriteBytes?: number, maxDepth?: number, maxEntries?: number, maxPathBytes?: number, maxErrorBytes?: number }) => action(async () => {
    const limits = Object.fromEntries(Object.entries({
      timeoutMs: flags.timeoutMs,
      memoryMb: flags.memoryMb,
      maxArgsBytes: flags.maxArgsBytes,
      maxResultBytes: flags.maxResultBytes,
      maxWriteBytes: flags.maxWriteBytes,
      maxDepth: flags.maxDepth,
      maxEntries: flags.maxEntries,
      maxPathBytes: flags.maxPathBytes,
      maxErrorBytes: flags.maxErrorBytes
    }).filter(([, v]) => v !== undefined))
    const hostOpts = { ...net(flags), storage: flags.storage, name: flags.name, oracles: !!flags.oracles, limits }
    if (files.length !== 1 || flags.acceptDeploys) {
      // one node, many contracts, and those others deploy (public hosting)
      const nodeOpts = { ...hostOpts, acceptDeploys: !!flags.acceptDeploys, policy: policyOptions(flags, limits) }
      if (wantsTui(flags)) {
        const { runHostNodeTui } = await loadTui()
        await runHostNodeTui(files.map((f) => path.resolve(f)), nodeOpts, { exit: (code) => process.exit(code) })
        return
      }
      const { node } = await runHostNode(files.map((f) => path.resolve(f)), nodeOpts, processOutput(!!flags.json))
      goodbye(() => node.close())
      return
    }
    const file = files[0] as string
    if (wantsTui(flags)) {
      // the UI handles q, ctrl+c and signals itself: it closes the node, restores the terminal, then exits
      const { runHostTui } = await loadTui()
      await runHostTui(path.resolve(file), hostOpts, { exit: (code) => process.exit(code) })
      return
    }
    const { node } = await runHost(path.resolve(file), hostOpts, processOutput(!!flags.json))
    goodbye(() => node.close())
  }, flags))

// public hosting: deploy onto someone else's node, undeploy, list what a node hosts
withNetwork(program.command('deploy'))
  .description("deploy a contract onto someone else's node (vms-node host --accept-deploys); prints its contract and files keys")
  .argument('<contract.js>', 'contract source file (CommonJS)')
  .requiredOption('--to <node key>', "the node's key (its `Node:` line)")
  .option('--name <name>', 'contract name (default: the file name)')
  .option('--identity <file>', 'deployer key pair file, created on first use (default: ~/.vms-node/identity.json)')
  .option('--timeout <ms>', 'connect and request timeout in ms', int('--timeout'), 10_000)
  .option('--oracles', 'ask for System.oracle (the contract becomes trusted, not trustless)')
  .option('--timeout-ms <ms>', 'deadline of one call, ms (at most the node\'s maximum)', int('--timeout-ms'))
  .option('--memory-mb <mb>', 'isolate memory limit, MiB (at most the node\'s maximum)', int('--memory-mb'))
  .action((file: string, flags: CommonFlags & { to: string, name?: string, oracles?: boolean, timeoutMs?: number, memoryMb?: number }) => action(async () => {
    parseKey(flags.to)
    await requireDht(net(flags))
    const limits = Object.fromEntries(Object.entries({ timeoutMs: flags.timeoutMs, memoryMb: flags.memoryMb }).filter(([, v]) => v !== undefined))
    await runDeploy(path.resolve(file), { ...net(flags), to: flags.to, name: flags.name, identity: flags.identity, timeout: flags.timeout, oracles: !!flags.oracles, limits }, processOutput(!!flags.json))
  }, flags))

withNetwork(program.command('undeploy'))
  .description('stop a node hosting a contract you deployed (or, with the node key as --identity, any contract on your node)')
  .argument('<key>', 'contract key (z-base32 or hex)')
  .requiredOption('--to <node key>', "the node's key")
  .option('--identity <file>', 'deployer key pair file (default: ~/.vms-node/identity.json)')
  .option('--timeout <ms>', 'connect and request timeout in ms', int('--timeout'), 10_000)
  .option('--delete', 'also delete its log and files from the node')
  .action((key: string, flags: CommonFlags & { to: string, delete?: boolean }) => action(async () => {
    parseKey(key)
    parseKey(flags.to)
    await requireDht(net(flags))
    await runUndeploy(key, { ...net(flags), to: flags.to, identity: flags.identity, timeout: flags.timeout, delete: !!flags.delete }, processOutput(!!flags.json))
  }, flags))

withNetwork(program.command('contracts'))
  .description("what a node hosts: contract, name, deployer, log length, checked against the node's registry log")
  .argument('<node key>', 'node key (z-base32 or hex)')
  .option('--identity <file>', 'key pair file (default: ~/.vms-node/identity.json)')
  .option('--timeout <ms>', 'connect and request timeout in ms', int('--timeout'), 10_000)
  .action((key: string, flags: CommonFlags) => action(async () => {
    parseKey(key)
    await requireDht(net(flags))
    await runContracts(key, { ...net(flags), identity: flags.identity, timeout: flags.timeout }, processOutput(!!flags.json))
  }, flags))

withCaller(program.command('call'))
  .description('call a contract method; arguments are JSON (plain words are strings)')
  .argument('<key>', 'contract key (z-base32 or hex)')
  .argument('<method>', 'method name')
  .argument('[args...]', 'arguments')
  .option('--quorum <k>', 'return only once k watchers attested ok at the call\'s log length', int('--quorum'), 0)
  .option('--quorum-timeout <ms>', 'how long to wait for the quorum, ms', int('--quorum-timeout'), 30_000)
  .option('--fault-quorum <k>', 'refuse the contract once k distinct watchers reported a replay fault (split-view evidence always refuses it)', int('--fault-quorum'), 1)
  // negative numbers are arguments (`call <key> add -1`): unknown options reach the action and are refused there
  .allowUnknownOption()
  .action((key: string, method: string, args: string[], flags: CommonFlags & { quorum: number, quorumTimeout: number, faultQuorum: number }) => action(async () => {
    const unknown = args.find((a) => /^-(-|[^\d.])/.test(a))
    if (unknown) throw VmsError.BAD_ARGUMENT(`unknown option ${unknown} (see vms-node call --help)`)
    parseCliArgs(args)
    parseKey(key)
    await requireDht(net(flags))
    await runCall(key, method, args, { ...net(flags), identity: flags.identity, timeout: flags.timeout, storage: flags.storage, quorum: flags.quorum, quorumTimeout: flags.quorumTimeout, faultQuorum: flags.faultQuorum }, processOutput(!!flags.json))
  }, flags))

withCaller(program.command('info'))
  .description("show a contract's keys, methods, log length and limits")
  .argument('<key>', 'contract key (z-base32 or hex)')
  .action((key: string, flags: CommonFlags) => action(async () => {
    await requireDht(net(flags))
    await runInfo(key, { ...net(flags), identity: flags.identity, timeout: flags.timeout, storage: flags.storage }, processOutput(!!flags.json))
  }, flags))

withCaller(program.command('repl'))
  .description('interactive REPL with a connected `client` object')
  .argument('<key>', 'contract key (z-base32 or hex)')
  .option('--exec <code>', 'evaluate one expression (e.g. "client.RSVP(\'bob\', false)") and exit')
  .action((key: string, flags: CommonFlags & { exec?: string }) => action(async () => {
    await requireDht(net(flags))
    await runRepl(key, { ...net(flags), identity: flags.identity, timeout: flags.timeout, storage: flags.storage, exec: flags.exec }, processOutput(!!flags.json))
  }, flags))

withAudit(program.command('verify'))
  .description("audit a contract's whole call log once: exit 0 ok, 1 fault, 2 could not audit")
  .argument('<key>', 'contract key (z-base32 or hex)')
  .action((key: string, flags: AuditFlags) => action(async () => {
    await requireDht(net(flags))
    process.exitCode = await runVerify(key, auditOptions(flags), processOutput(!!flags.json))
  }, flags))

withAudit(program.command('watch'))
  .description('follow contracts live: replay every call, print verdicts and faults')
  .argument('<keys...>', 'contract keys (z-base32 or hex)')
  .option('--identity <file>', 'key pair that signs attestations (default: <storage>/identity.json, else ~/.vms-node/watcher.json)')
  .addOption(new Option('--no-tui', 'plain output even on a terminal'))
  .action((keys: string[], flags: AuditFlags) => action(async () => {
    const watchOpts = { ...auditOptions(flags), identity: flags.identity }
    const dht = await probeDht(net(flags))
    if (!dht.ok) process.stderr.write(`vms-node: warning: no DHT node answered within ${DHT_PROBE_MS} ms at ${dht.dht}; watching anyway: ${BOOTSTRAP_HINT}\n`)
    if (wantsTui(flags)) {
      const { runWatchTui } = await loadTui()
      await runWatchTui(keys, watchOpts, { exit: (code) => process.exit(code) })
      return
    }
    const { watcher } = await runWatch(keys, watchOpts, processOutput(!!flags.json))
    goodbye(() => watcher.close())
  }, flags))

// rehosting: seed
withNetwork(program.command('seed'))
  .description('keep contracts available without auditing them: replicate and serve their log and files, hand over the host-signed roots')
  .argument('<keys...>', 'contract keys (z-base32 or hex)')
  .option('--storage <dir>', 'seeder storage, persistent: replicated cores and kept roots (default: a temporary folder)')
  .option('--timeout <ms>', 'ms to wait for one root answer', int('--timeout'), 10000)
  .action((keys: string[], flags: CommonFlags & { storage?: string, timeout: number }) => action(async () => {
    const { runSeed } = await import('./commands/seed.js')
    const { seeder } = await runSeed(keys, { ...net(flags), storage: flags.storage, timeout: flags.timeout }, processOutput(!!flags.json))
    goodbye(() => seeder.close())
  }))

withCaller(program.command('attestations'))
  .description('who attested what about a contract: watchers, lengths, verdicts')
  .argument('<key>', 'contract key (z-base32 or hex)')
  .option('--wait <ms>', 'how long to collect gossip after connecting, ms', int('--wait'), 2000)
  .action((key: string, flags: CommonFlags & { wait: number }) => action(async () => {
    await requireDht(net(flags))
    await runAttestations(key, { ...net(flags), identity: flags.identity, timeout: flags.timeout, storage: flags.storage, wait: flags.wait }, processOutput(!!flags.json))
  }, flags))

program.command('check')
  .description('check fault evidence offline (no network); exit 0 valid, 1 invalid')
  .argument('<evidence.json>', 'split-view evidence, or an attestation/verdict carrying it')
  .option('--json', 'print one JSON object')
  .action((file: string, flags: { json?: boolean }) => action(async () => {
    const result = runCheck(file, processOutput(!!flags.json))
    process.exitCode = result.valid ? 0 : 1
  }, flags))

program.parseAsync(process.argv).catch((err) => fail(err, process.argv.includes('--json')))
