/**
 * `VmsClient`: call a contract by its key from anywhere on the DHT, as the
 * seeds' `nodevms-client` does. The client finds peers by the call log's
 * discovery key, opens the host RPC on every swarm connection (each through
 * the connection guard), signs every call with the caller's identity, and
 * replicates the log and files.
 *
 * Only the contract key is trusted. A peer is not the host until a reply of
 * it verified (attest/reply.ts): `info` and `call` replies carry a root
 * signed by the signer of the manifest that hashes to the contract key, and
 * a Merkle proof of the genesis / the call's record under it; a reply that
 * does not verify is FORGED_REPLY, its peer is banned and the next peer is
 * asked (net/peers.ts). What is proven of the log (signer, genesis, info,
 * roots) is kept in client-proven-log.ts. State is read at the files version
 * the verified log covers (`openFiles()`, `read()`, client-files.ts), never
 * at the drive's raw head.
 *
 * ```js
 * const client = await VmsClient.connect(key, { bootstrap: [{ host: '127.0.0.1', port: 49737 }] })
 * await client.RSVP('bob', true)
 * await client.close()
 * ```
 */

import type Corestore from 'corestore'
import type Hyperdrive from 'hyperdrive'
import type Hyperswarm from 'hyperswarm'
import type Hypercore from 'hypercore'
import type { CallRequest, ContractInfo, RootStatement } from '../protocol/index.js'
import { NonceClock, signCall } from './caller.js'
import { discoveryKey, keyPair } from './crypto.js'
import { VmsError } from './errors.js'
import { defaultIdentityPath, type Identity } from './identity.js'
import { canonicalArgs } from './json.js'
import { parseKey } from './keys.js'
import { PeerSet, type Peer } from './net/peers.js'
import { keepLooking } from './net/lookup.js'
import type { AttestationGossip as Gossip } from './attest/gossip.js'
import type { AttestationStore } from './attest/store.js'
import { VmsNode } from './node/node.js'
import { assertNoFault, coveringWatchers, waitForQuorum } from './attest/quorum.js'
import { reportSplitViews } from './watch/attester.js'
import { checkReceipt, type ReceiptCheck } from './attest/receipt.js'
import type { VerifiedCall } from './attest/reply.js'
import { sendCall } from './client-call.js'
import { CoveredFiles } from './client-files.js'
import { ProvenLog } from './client-proven-log.js'
import { VERSION } from './version.js'
import type { SandboxFactory } from './runtime/types.js'
import type { ContractWatch } from './watch/contract-watch.js'
import type { Verdict } from './watch/verdict.js'
import type { Watcher } from './watch/watcher.js'

import { withMethods, type ClientOptions, type ContractMethod, type ProvenRead, type Receipt } from './client-options.js'
import { ReplicaSet, hostOrOffline, type Freshness, type Presence } from './client-replicas.js'
import { deployTo, undeployFrom, type Deployed, type DeployOptions as NodeDeployOptions, type NodeClientOptions } from './deploy-client.js'

export type { ClientOptions, ContractMethod, ProvenRead, Receipt } from './client-options.js'

/** A connected client: its own members plus one function per contract method. */
export type ConnectedClient = VmsClient & { [method: string]: ContractMethod }

/** A connection to one contract. Use {@link VmsClient.connect}. */
export class VmsClient {
  readonly key: Buffer
  /** The node the client is a service of (store, swarm, identity, gossip, connections). */
  readonly node: VmsNode
  /** Receipt of the last call that ran (verified). */
  lastReceipt: Receipt | null = null
  /** The replicated call log. */
  readonly core: Hypercore
  /** The contract's peers: proven ones first (see net/peers.ts). */
  readonly peers: PeerSet
  /** Peers that keep the contract's log and files and hand over host-signed roots (client-replicas.ts). */
  readonly replicas: ReplicaSet
  private readonly timeout: number
  private readonly nonces = new NonceClock()
  private readonly files: CoveredFiles
  private closed = false
  private readonly quorum: number
  private stopSplitViews: () => void = () => {}
  private readonly quorumTimeout: number
  private readonly faultQuorum: number
  /** The signer, genesis, info and roots proven so far (client-proven-log.ts). */
  private readonly proof: ProvenLog
  private watcher: Watcher | null = null
  private stopLooking: () => void = () => {}
  /** The background audit (with `audit: true`): emits `verdict` and `fault` (a Verdict). */
  auditor: ContractWatch | null = null

  /** Does no I/O: {@link VmsClient.connect} opens the node. */
  private constructor (key: Buffer, opts: ClientOptions) {
    this.key = key
    this.timeout = opts.timeout ?? 5000
    this.peers = new PeerSet(key)
    this.replicas = new ReplicaSet(key)
    const firewall = opts.firewall
    this.node = new VmsNode({
      ...opts,
      storeDir: opts.storage, // the client's Corestore is its storage folder itself
      nodeKey: keyPair(), // a client announces nothing: a fresh swarm key each time
      identity: opts.identity ?? defaultIdentityPath(),
      firewall: (pk) => this.peers.banned(pk) || (firewall ? firewall(pk) : false)
    })
    this.core = this.store.get({ key })
    this.node.add({
      name: 'client',
      onconnection: (conn) => { this.peers.add(conn); this.replicas.add(conn) },
      close: async () => await this.closeParts()
    })
    this.quorum = opts.quorum ?? 0
    this.faultQuorum = opts.faultQuorum ?? 1
    this.quorumTimeout = opts.quorumTimeout ?? 30_000
    this.proof = new ProvenLog({ key, core: this.core, peers: this.peers, presence: this.presence(), attestations: this.attestations, timeout: this.timeout })
    this.files = new CoveredFiles({
      store: this.store.session(), // its drive closes the store it gets: a session, not the node's
      core: this.core,
      attestations: this.attestations,
      timeout: this.timeout,
      quorum: this.quorum,
      quorumTimeout: this.quorumTimeout,
      faultQuorum: this.faultQuorum,
      filesKey: () => this.info.files,
      root: async (length) => await this.root(length),
      coverage: (root) => this.proof.coverage(root),
      receipt: () => this.lastReceipt?.root ?? null
    })
  }

  /**
   * Public hosting: deploys `source` onto the node `opts.to` (its node key),
   * signed by `opts.identity` (the deployer: `init` runs as it). See
   * deploy-client.ts `NodeClient` for a connection kept open.
   * @returns the new contract's key, files key and deploy request hash
   * @throws VmsError DEPLOY_REFUSED, DEPLOY_QUOTA, DEPLOY_RATE, LIMITS_TOO_HIGH, CONTRACT_LOAD,
   *   CONTRACT_INIT, NOT_FOUND (no connection to the node), REQUEST_TIMEOUT
   */
  static async deploy (source: string, opts: NodeDeployOptions & NodeClientOptions & { to: string | Uint8Array }): Promise<Deployed> {
    return await deployTo(source, opts)
  }

  /**
   * Public hosting: asks the node `opts.to` to stop hosting `contract`
   * (signed by its deployer, or by the node key for the operator).
   * @throws VmsError NOT_DEPLOYER, NOT_FOUND, REQUEST_TIMEOUT
   */
  static async undeploy (contract: string | Uint8Array, opts: NodeClientOptions & { to: string | Uint8Array, delete?: boolean }): Promise<void> {
    await undeployFrom(contract, opts)
  }

  /**
   * Connects to the contract `key` (z-base32 or hex) and reads its info
   * from the first peer whose `info` reply proves the genesis.
   * @returns the client, with one method per contract method
   * @throws VmsError BAD_KEY; FORGED_REPLY when every peer that answered
   *   forged its info; NOT_FOUND (no peer opened the contract's channel
   *   within `timeout` ms), REQUEST_TIMEOUT
   */
  static async connect (key: string | Uint8Array, opts: ClientOptions = {}): Promise<ConnectedClient> {
    const client = new VmsClient(parseKey(key), opts)
    try {
      await client.node.ready()
      client.stopSplitViews = reportSplitViews(client.attestations, client.gossip, client.identity, `vms-node/${VERSION}`)
      await client.core.ready()
      const discovery = client.swarm.join(discoveryKey(client.key), { server: false, client: true })
      // until a proven peer is connected and someone serves the log itself (a peer replaying signed
      // statements serves no blocks), look again in seconds, not at the swarm's 10-minute refresh
      client.stopLooking = keepLooking(discovery, () => client.peers.list.some((p) => p.proven > 0) && client.core.peers.length > 0, opts.lookup)
      await client.proof.first() // from a host when one is online, else from the replicas
      if (opts.audit) await client.startAudit(opts.sandboxFactory)
    } catch (err) {
      await client.close()
      throw err
    }
    return withMethods(client)
  }

  get store (): Corestore { return this.node.store }
  /** The caller identity that signs every call (the node's identity). */
  get identity (): Identity { return this.node.identity }
  /** Attestations gossiped by peers (latest per watcher, verified faults). */
  get attestations (): AttestationStore { return this.node.attestations }
  get gossip (): Gossip { return this.node.gossip }
  get swarm (): Hyperswarm { return this.node.swarm as Hyperswarm }

  /** The background audit's latest verdict (null without `audit: true` or before the first). */
  get verdict (): Verdict | null {
    return this.auditor ? this.auditor.verdict : null
  }

  private async startAudit (sandboxFactory?: SandboxFactory): Promise<void> {
    const { Watcher } = await import('./watch/watcher.js')
    this.watcher = new Watcher({ store: this.store, sandboxFactory, gossip: this.gossip, identity: this.identity })
    this.auditor = await this.watcher.watch(this.key, { rootSource: async () => await this.root() })
  }

  /**
   * The contract's info from the verified log: files key, name, runtime,
   * oracles and limits from the proven genesis, length and fork from the
   * latest verified root. `methods` is the host's own list, unproven (the
   * genesis holds the source, not the names): only a hint for the method
   * proxy; a call to a method that does not exist is rejected by the host.
   */
  get info (): ContractInfo {
    return this.proof.info
  }

  /** Method names of the contract (the host's unproven list: see {@link VmsClient.info}). */
  get methods (): string[] {
    return this.info.methods
  }

  /**
   * Asks the peers for the contract's info again (see {@link VmsClient.info}).
   * @throws VmsError as {@link VmsClient.connect}
   */
  async refreshInfo (): Promise<ContractInfo> {
    return await this.proof.refresh()
  }

  /**
   * The contract's method names derived from the proven genesis: its source
   * loaded in a sandbox (a supervised sandbox process unless `sandboxFactory`:
   * the source is the contract author's, so its top-level code may be
   * hostile), as the host does. Unlike `info.methods`, nothing here comes from a peer.
   * @throws VmsError CONTRACT_LOAD when the source does not load
   */
  async provenMethods (sandboxFactory?: SandboxFactory): Promise<string[]> {
    return await this.proof.methods(sandboxFactory)
  }

  /**
   * A root of the contract's log signed by its log signer. For the current
   * root (`length` 0) every connected peer is asked and the longest root
   * that verifies is taken (a peer replaying an older genuine root does not
   * hold readers back while another serves a newer one); peers that forge
   * one are banned.
   * @param length the log length to sign (default 0: the longest current one)
   * @throws VmsError FORGED_REPLY when every peer that answered forged it, NOT_FOUND, REQUEST_TIMEOUT
   */
  async root (length = 0): Promise<RootStatement> {
    return await this.proof.root(length)
  }

  /**
   * Calls `method` with JSON arguments, signed by this client's identity.
   * The reply is believed only when it proves the call's record in the
   * signed log; forged replies ban their peer and the same signed request
   * goes to the next (the call loop, its NONCE_REUSED handling included:
   * client-call.ts).
   * @returns the method's JSON result (undefined when it returned nothing)
   * @throws VmsError with the recorded code when the call ran and failed
   *   (CONTRACT_ERROR, ENOENT, TIMEOUT, MEMORY_LIMIT...), or the rejection code
   *   (BAD_SIGNATURE, UNKNOWN_METHOD, ARGS_TOO_LARGE...), FORGED_REPLY (every
   *   peer that answered forged its reply), NOT_FOUND, REQUEST_TIMEOUT, CLOSED;
   *   CONTRACT_FAULTY when split-view evidence or `faultQuorum` watchers' faults are known, QUORUM_TIMEOUT when `quorum`
   *   watchers did not attest the call's receipt in time
   */
  async call (method: string, ...args: unknown[]): Promise<unknown> {
    const argsJson = canonicalArgs(args)
    assertNoFault(this.attestations, this.key, this.faultQuorum)
    const sign = (): CallRequest => signCall(this.identity, this.key, this.nonces.next(), method, argsJson)
    const req = sign()
    await hostOrOffline(this.presence(), this.key, this.proof.length) // HOST_OFFLINE when only replicas are online (after a short grace)
    const { peer, verified } = await sendCall({
      peers: this.peers,
      core: this.core,
      key: this.key,
      timeout: this.timeout,
      root: async () => await this.root(),
      signer: async () => await this.proof.provenSigner()
    }, req, sign)
    return await this.settle(peer, verified)
  }

  /** A verified call (from `peer`, or null: found in the log): the receipt kept, the quorum awaited, the outcome returned or thrown. */
  private async settle (peer: Peer | null, verified: VerifiedCall): Promise<unknown> {
    if (peer) {
      this.peers.prove(peer)
      peer.served = true
    }
    this.proof.signer = verified.signer
    const { outcome, index, root } = verified.response
    this.lastReceipt = { index, root }
    this.proof.note(root)
    if (this.quorum > 0) await waitForQuorum(this.attestations, this.key, this.proof.coverage(root), this.quorum, this.quorumTimeout, this.faultQuorum)
    if (!outcome.ok) throw VmsError.fromInfo(outcome.error ?? { code: 'INTERNAL', message: 'INTERNAL: failed without an error' })
    return outcome.result === null ? undefined : JSON.parse(outcome.result)
  }

  /**
   * Checks that a call the host acknowledged is still in its log: the
   * receipt's root must verify under the contract's log signer, the host's
   * current log must still have that root as its prefix (its signed root at
   * the receipt's length, and the replicated log's tree hash there), and
   * the receipt's block must be a call record. A host that dropped the call
   * is caught by its own signature: the result names the fault and, when two
   * host-signed roots conflict, carries evidence `vms-node check` verifies
   * offline (the conflicting roots also go to the attestation store, which
   * reports and gossips the split view). A peer that answers with roots that
   * do not verify is banned and the next peer asked.
   * @param receipt a receipt this client got (default: the last call's)
   * @returns `{ ok: true }`, or `{ ok: false, fault: 'truncated' | 'rewritten', receipt, current, evidence }`
   * @throws VmsError BAD_ARGUMENT (no receipt, or not one of this contract),
   *   FORGED_REPLY (every peer that answered forged its roots),
   *   NOT_FOUND / REQUEST_TIMEOUT / CLOSED when no peer could be asked
   */
  async checkReceipt (receipt: Receipt | null = this.lastReceipt): Promise<ReceiptCheck> {
    if (!receipt) throw VmsError.BAD_ARGUMENT('no receipt to check: make a call first')
    return await checkReceipt({
      core: this.core,
      store: this.attestations,
      timeout: this.timeout,
      signer: this.proof.signer ?? undefined,
      genesis: this.proof.genesisBlock ?? undefined,
      root: async (length) => await this.root(length)
    }, receipt)
  }

  /**
   * The contract's files drive (a stock Hyperdrive over the replicated
   * cores, its key from the proven genesis), checked out at the files
   * version the verified log covers: the version the last record of the
   * log at the latest verified root names (with `quorum`, of the longest
   * log that many watchers attested). Never the drive's raw head: blocks no
   * call record covers are not shown. Hypercore checks every block it
   * reads against the drive key.
   * @throws VmsError FORGED_REPLY / NOT_FOUND / REQUEST_TIMEOUT when no
   *   peer proved a root, QUORUM_TIMEOUT, BAD_RECORD when the drive at that
   *   version is not the one the record names (its tree hash differs)
   */
  async openFiles (): Promise<Hyperdrive> {
    return (await this.files.covered()).drive
  }

  /**
   * A proven point read of the contract's files: `path` read from the drive
   * checked out at the covered version (see {@link VmsClient.openFiles}).
   * @param path a drive path, e.g. `/rsvps/bob.json`
   * @returns { value, filesVersion, length, attestations } ({@link ProvenRead})
   * @throws VmsError as {@link VmsClient.openFiles}
   */
  async read (path: string): Promise<ProvenRead> {
    const c = await this.files.covered()
    const value = await c.drive.get(path, { timeout: this.timeout })
    const attestations = this.proof.signer ? await coveringWatchers(this.attestations, this.proof.coverage(c.root)) : []
    return { value, filesVersion: c.version, length: c.root.length, attestations }
  }

  /** Leaves the swarm and closes storage (removing a temporary folder). */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.node.close()
  }

  /** The client service's own parts, closed by the node after it left the swarm. */
  private async closeParts (): Promise<void> {
    if (this.watcher) await this.watcher.close()
    this.stopLooking()
    this.peers.close()
    this.replicas.close()
    this.stopSplitViews()
    await this.files.close()
    await this.core.close()
  }

  // --- rehosting: reading from replicas while no host is online (client-replicas.ts) ---

  /**
   * Whether a host is online: a peer opened the host RPC channel (not
   * proven yet; replies prove it). False while only replicas serve.
   */
  get hostOnline (): boolean {
    return this.peers.list.length > 0
  }

  /**
   * How fresh the state is: the newest host-signed root known (asked of
   * every host peer, else every replica; when none answers, the info's
   * length) and the recorded time of its last call (null when that block
   * does not arrive within 2 s), with how many replicas serve. Never throws.
   */
  async freshness (): Promise<Freshness> {
    return await this.proof.freshness()
  }

  /** Who is online, for the rehosting helpers (client-replicas.ts). */
  private presence (): Presence {
    return { hostOnline: () => this.hostOnline, replicas: this.replicas, closed: () => this.closed }
  }
}
