/**
 * The operator's policy for contracts others deploy onto a node: who may
 * deploy (an allowlist of deployer keys, or anyone), how many contracts per
 * deployer and in total, the highest limits a deploy may ask for, a
 * per-contract storage cap, and a deploy rate limit. Every check here runs
 * before anything is stored.
 */

import fs from 'node:fs'
import { VmsError } from '../errors.js'
import { formatKey, parseKey } from '../keys.js'
import { DEFAULT_LIMITS, type Limits } from '../runtime/types.js'
import type { LimitEntry } from '../../protocol/index.js'

/** Options of the deploy policy (all optional: the defaults below). */
export interface DeployPolicyOptions {
  /** Deployer keys allowed to deploy (z-base32 or hex); null/undefined: anyone. */
  deployers?: Array<string | Uint8Array> | null
  /** Most contracts one deployer may have hosted at once (default 8). */
  maxPerDeployer?: number
  /** Most deployed contracts in total (default 64). */
  maxContracts?: number
  /** Highest limits a deploy may ask for (default: DEFAULT_LIMITS, i.e. a deployer may only lower them). */
  maxLimits?: Partial<Limits>
  /** Per-contract storage cap: log plus files bytes after which calls are refused with STORAGE_QUOTA (default 64 MiB). */
  maxStorageBytes?: number
  /** Deploy rate limit: at most `count` deploys per deployer per `perMs` ms (default 10 per 60,000 ms). */
  rate?: { count: number, perMs: number }
  /**
   * Node-wide deploy rate limit, all deployers together (default 60 per
   * 60,000 ms): each prepare costs a sandbox and an `init` trial, and keys are free.
   */
  totalRate?: { count: number, perMs: number }
}

/** Longest contract source a deploy may carry, bytes (1 MiB). */
export const MAX_DEPLOY_SOURCE_BYTES = 1024 * 1024

const LIMIT_NAMES = Object.keys(DEFAULT_LIMITS) as Array<keyof Limits>

/**
 * Reads an allowlist file: one deployer key per line (z-base32 or hex);
 * blank lines and `#` comments are skipped.
 * @throws VmsError BAD_ARGUMENT (unreadable file), BAD_KEY
 */
export function readDeployersFile (file: string): string[] {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw VmsError.BAD_ARGUMENT(`cannot read deployers file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  return text.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean).map((k) => formatKey(parseKey(k)))
}

/** The policy in force on a node. */
export class DeployPolicy {
  readonly maxPerDeployer: number
  readonly maxContracts: number
  readonly maxLimits: Limits
  readonly maxStorageBytes: number
  readonly rate: { count: number, perMs: number }
  readonly totalRate: { count: number, perMs: number }
  private all: number[] = []
  private readonly allow: Set<string> | null
  private readonly recent = new Map<string, number[]>()

  /** @param opts see {@link DeployPolicyOptions} @throws VmsError BAD_KEY */
  constructor (opts: DeployPolicyOptions = {}) {
    this.allow = opts.deployers ? new Set(opts.deployers.map((k) => parseKey(k).toString('hex'))) : null
    this.maxPerDeployer = opts.maxPerDeployer ?? 8
    this.maxContracts = opts.maxContracts ?? 64
    this.maxLimits = { ...DEFAULT_LIMITS, ...opts.maxLimits }
    this.maxStorageBytes = opts.maxStorageBytes ?? 64 * 1024 * 1024
    this.rate = opts.rate ?? { count: 10, perMs: 60_000 }
    this.totalRate = opts.totalRate ?? { count: 60, perMs: 60_000 }
  }

  /**
   * Checks a deploy before anything is stored.
   * @param deployer the deployer's key
   * @param counts contracts deployed now: by this deployer, and in total
   * @param limits the limits asked for
   * @param now ms since the epoch; null skips the rate limit (a commit re-checks what its prepare was charged for)
   * @returns the limits the contract gets (asked ones over the defaults, capped by nothing: over a maximum is refused)
   * @throws VmsError DEPLOY_REFUSED, DEPLOY_QUOTA, DEPLOY_RATE, LIMITS_TOO_HIGH, BAD_ARGUMENT
   */
  check (deployer: Uint8Array, counts: { mine: number, total: number }, limits: LimitEntry[], now: number | null = Date.now()): Partial<Limits> {
    const id = Buffer.from(deployer).toString('hex')
    if (this.allow && !this.allow.has(id)) throw VmsError.DEPLOY_REFUSED(`deployer ${formatKey(deployer)} is not on this node's allowlist`)
    if (counts.mine >= this.maxPerDeployer) throw VmsError.DEPLOY_QUOTA(`deployer has ${counts.mine} contracts here, the most one deployer may have is ${this.maxPerDeployer}`)
    if (counts.total >= this.maxContracts) throw VmsError.DEPLOY_QUOTA(`this node hosts ${counts.total} deployed contracts, its most`)
    const asked: Partial<Limits> = {}
    const seen = new Set<string>()
    for (const { name, value } of limits) {
      if (!LIMIT_NAMES.includes(name as keyof Limits) || seen.has(name)) throw VmsError.BAD_ARGUMENT(`unknown or repeated limit ${JSON.stringify(name)}`)
      seen.add(name)
      const max = this.maxLimits[name as keyof Limits]
      if (value > max) throw VmsError.LIMITS_TOO_HIGH(`${name} ${value} is above this node's maximum ${max}`)
      asked[name as keyof Limits] = value
    }
    for (const n of LIMIT_NAMES) {
      if (asked[n] === undefined && DEFAULT_LIMITS[n] > this.maxLimits[n]) asked[n] = this.maxLimits[n]
    }
    if (now === null) return asked
    const times = (this.recent.get(id) ?? []).filter((t) => t > now - this.rate.perMs)
    if (times.length >= this.rate.count) throw VmsError.DEPLOY_RATE(`at most ${this.rate.count} deploys per ${this.rate.perMs} ms per deployer; try again later`)
    const all = this.all.filter((t) => t > now - this.totalRate.perMs)
    if (all.length >= this.totalRate.count) throw VmsError.DEPLOY_RATE(`this node takes at most ${this.totalRate.count} deploys per ${this.totalRate.perMs} ms from all deployers; try again later`)
    return asked
  }

  /** Counts one deploy of `deployer` at `now` against the rate limit. */
  charge (deployer: Uint8Array, now = Date.now()): void {
    const id = Buffer.from(deployer).toString('hex')
    const times = (this.recent.get(id) ?? []).filter((t) => t > now - this.rate.perMs)
    times.push(now)
    this.recent.set(id, times)
    this.all = this.all.filter((t) => t > now - this.totalRate.perMs)
    this.all.push(now)
    if (this.recent.size > 10_000) this.recent.delete(this.recent.keys().next().value as string)
  }
}
