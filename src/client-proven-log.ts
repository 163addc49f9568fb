/**
 * What a client has proven of a contract's log, from the contract key
 * alone (used by `VmsClient`, src/client.ts): the log's signer (from the
 * manifest that hashes to the contract key), the genesis block and record,
 * the info built from them, and the verified roots it gets from hosts and,
 * with no host online, from replicas (client-replicas.ts). Every verified
 * root goes to the attestation store, which reports two host-signed roots
 * that disagree (a split view); the info's length follows the longest.
 */

import type Hypercore from 'hypercore'
import type { ContractInfo, GenesisRecord, RootStatement, SignerRecord } from '../protocol/index.js'
import { VmsError } from './errors.js'
import type { Peer, PeerSet } from './net/peers.js'
import type { AttestationStore } from './attest/store.js'
import type { Coverage } from './attest/quorum.js'
import { checkRoot, verifyInfo, type VerifiedInfo } from './attest/reply.js'
import type { SandboxFactory } from './runtime/types.js'
import { newestRoot, replicaInfo, rootTime, waitHost, type Freshness, type Presence } from './client-replicas.js'

/** What {@link ProvenLog} reads of its client. */
export interface ProvenLogContext {
  /** Contract key, 32 bytes. */
  key: Buffer
  /** The replicated call log. */
  core: Hypercore
  /** The contract's peers (proven ones first). */
  peers: PeerSet
  /** Who is online: a host, the replicas (their roots are asked when no host answers). */
  presence: Presence
  /** Where every verified root is kept (split-view checks). */
  attestations: AttestationStore
  /** Per request, ms. */
  timeout: number
}

/** See the module doc. */
export class ProvenLog {
  /** The contract's info (see `VmsClient.info`); set by {@link ProvenLog.first}. */
  info!: ContractInfo
  /** The log's signer, proven against the contract key by the first verified reply. */
  signer: SignerRecord | null = null
  /** Block 0 of the log, as proven by `info`. */
  genesisBlock: Uint8Array | null = null
  /** The genesis record, as proven by `info`. */
  genesis: GenesisRecord | null = null
  private readonly ctx: ProvenLogContext

  /** Does no I/O. @param ctx see {@link ProvenLogContext} */
  constructor (ctx: ProvenLogContext) {
    this.ctx = ctx
  }

  /** Log length known (0 before the first info). */
  get length (): number {
    return this.info ? this.info.length : 0
  }

  /**
   * The first info: from a host when one is online, else from the replicas
   * (genesis from the replicated log, roots from the replicas).
   * @throws VmsError as {@link ProvenLog.refresh}; NOT_FOUND, FORGED_REPLY, BAD_RECORD from the replicas
   */
  async first (): Promise<void> {
    const { key, core, presence, timeout } = this.ctx
    if (await waitHost(presence, timeout) || presence.replicas.size === 0) {
      await this.refresh()
      return
    }
    this.accept(await replicaInfo(key, core, presence.replicas, timeout))
  }

  /**
   * Asks the peers for the contract's info again: the first `info` reply
   * that proves the genesis under a signed root is kept.
   * @throws VmsError FORGED_REPLY when every peer that answered forged it, NOT_FOUND, REQUEST_TIMEOUT
   */
  async refresh (): Promise<ContractInfo> {
    const { key, peers, timeout } = this.ctx
    this.accept(await peers.ask(timeout, async (peer) => verifyInfo(key, await peer.rpc.info(timeout))))
    return this.info
  }

  /**
   * A root signed by the log signer (see `VmsClient.root`): for `length` 0
   * the longest any connected peer gives, else the newest a replica keeps;
   * a peer that forges one is banned and the next asked.
   * @param length the log length to sign (0: the longest current one)
   * @throws VmsError FORGED_REPLY, NOT_FOUND, REQUEST_TIMEOUT
   */
  async root (length = 0): Promise<RootStatement> {
    const { key, peers, presence, timeout } = this.ctx
    const signer = await this.provenSigner()
    const ask = async (peer: Peer): Promise<RootStatement> => {
      const s = await peer.rpc.root(timeout, length)
      checkRoot(key, s, signer)
      if (length > 0 && s.length !== length) throw VmsError.FORGED_REPLY(`the peer gave a root of length ${s.length}, not ${length}`)
      this.note(s)
      return s
    }
    if (length === 0) {
      const all = await peers.askAll(ask)
      if (all.length > 0) return all.reduce((a, b) => b.length > a.length ? b : a)
      const kept = newestRoot(await presence.replicas.roots(signer, timeout)) // no host online: the newest root a replica kept
      if (kept) {
        this.note(kept)
        return kept
      }
    }
    return await peers.ask(timeout, ask)
  }

  /**
   * How fresh the state is (see `VmsClient.freshness`): the newest root
   * known and the recorded time of its last call (null when that block does
   * not arrive within 2 s). Never throws.
   */
  async freshness (): Promise<Freshness> {
    const { core, presence, timeout } = this.ctx
    let root: RootStatement | null = null
    try {
      root = await this.root()
    } catch {}
    const length = root ? root.length : this.length
    const time = root ? await rootTime(core, root, Math.min(timeout, 2000)) : null
    return { hostOnline: presence.hostOnline(), replicas: presence.replicas.size, length, time }
  }

  /** A verified root: kept for split-view checks, and the info's length follows the longest. */
  note (root: RootStatement): void {
    if (this.signer) this.ctx.attestations.addStatement(root, this.signer)
    if (this.info && root.length > this.info.length) this.info = { ...this.info, length: root.length, fork: root.fork }
  }

  /** The proven signer, asking for the info first when none is known. @throws VmsError as {@link ProvenLog.refresh} */
  async provenSigner (): Promise<SignerRecord> {
    if (!this.signer) await this.refresh()
    if (!this.signer) throw VmsError.INTERNAL('no proven signer')
    return this.signer
  }

  /** What attestations must cover for `root`. @throws VmsError INTERNAL before a signer is proven */
  coverage (root: RootStatement): Coverage {
    if (!this.signer) throw VmsError.INTERNAL('no proven signer')
    return { root, signer: this.signer, core: this.ctx.core, timeout: this.ctx.timeout }
  }

  /**
   * The method names of the proven genesis source, loaded in a sandbox (see `VmsClient.provenMethods`).
   * @throws VmsError CONTRACT_LOAD when the source does not load
   */
  async methods (sandboxFactory?: SandboxFactory): Promise<string[]> {
    if (!this.genesis) await this.refresh()
    const g = this.genesis as GenesisRecord
    const factory = sandboxFactory ?? (await import('./runtime/sandbox-process.js')).createProcessSandbox
    const sandbox = await factory(g.source, { limits: g.limits, filename: g.name + '.js' })
    try {
      return [...sandbox.methods]
    } finally {
      await sandbox.close()
    }
  }

  /** A verified info (from a host or the replicas): its signer, genesis and info kept, its root noted. */
  private accept (v: VerifiedInfo): void {
    this.signer = v.signer
    this.genesisBlock = v.block
    this.genesis = v.genesis
    this.info = v.info
    this.note(v.root)
  }
}
