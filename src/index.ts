/**
 * vms-node library API.
 *
 * - {@link VmsClient}: call a contract by key.
 * - {@link VmsNode}: one node (store, swarm, identity, gossip, connections) that services plug into.
 * - {@link HostNode} / {@link ContractHost}: host contracts.
 * - {@link NodeClient}: deploy onto someone else's node, undeploy, list what a node hosts (public hosting).
 * - {@link ContractLog}: read a call log and its files.
 * - {@link Watcher}: follow contracts, replay and judge every call.
 * - {@link AttestationStore} / {@link Gossip}: signed attestations and their gossip.
 * - {@link checkReceipt}: prove a call was omitted from the log with its receipt.
 * - {@link FreshnessMonitor}, {@link guardConnection}, {@link keepLooking}: stale logs, per-connection limits, host lookup.
 * - {@link VmsError}: the one error class (check `err.code`).
 */
export { VmsClient } from './client.js'
export { VmsNode } from './node/node.js'
export type { VmsNodeOptions, NodeService, ConnectionContext, PeerInfo } from './node/node.js'
export type { ClientOptions, ConnectedClient, ContractMethod, ProvenRead, Receipt } from './client.js'
export { NodeClient, deployTo, undeployFrom } from './deploy-client.js'
export type { NodeClientOptions, Deployed, VerifiedListing } from './deploy-client.js'
export { DeployPolicy } from './host/deploy-policy.js'
export type { DeployPolicyOptions } from './host/deploy-policy.js'
export { HostNode } from './host/host-node.js'
export type { HostNodeOptions, DeployOptions } from './host/host-node.js'
export { ContractHost } from './host/contract-host.js'
export type { ContractHostOptions, HostStats } from './host/contract-host.js'
export { ContractLog } from './log/contract-log.js'
export { VmsError, ERROR_CODES } from './errors.js'
export type { ErrorCode } from './errors.js'
export type { ErrorRecord } from '../protocol/index.js'
export { loadIdentity, defaultIdentityPath } from './identity.js'
export type { Identity } from './identity.js'
export { parseKey, formatKey } from './keys.js'
export { parseBootstrap, createSwarm } from './net/swarm.js'
export type { BootstrapNode, NetOptions } from './net/swarm.js'
export { createSandbox, runtimeFingerprint } from './runtime/sandbox.js'
export { createProcessSandbox, SandboxProcessPool, sharedSandboxProcesses } from './runtime/sandbox-process.js'
export type { SandboxProcessOptions, ChildExit } from './runtime/sandbox-process.js'
export { DEFAULT_LIMITS } from './runtime/types.js'
export type { Limits, Sandbox, SandboxFactory, FilesView, FileOp, CallContext, CallOutcome } from './runtime/types.js'
export { VERSION } from './version.js'
export { Watcher } from './watch/watcher.js'
export type { WatcherOptions, WatchOptions } from './watch/watcher.js'
export { ContractWatch } from './watch/contract-watch.js'
export type { WatchStats } from './watch/contract-watch.js'
export { checkForkEvidence } from './attest/evidence.js'
export type { Verdict, Fault, Evidence, FaultKind, FaultCause } from './watch/verdict.js'
export { AttestationStore } from './attest/store.js'
export { checkEvidence } from './attest/evidence.js'
export type { SplitViewEvidence, EvidenceCheck } from './attest/evidence.js'
export { verifyAttestation } from './attest/attestation.js'
export { Gossip } from './net/gossip.js'
export { checkReceipt } from './attest/receipt.js'
export type { ReceiptLike, ReceiptSource, ReceiptCheck, ReceiptEvidence } from './attest/receipt.js'
export { FreshnessMonitor } from './watch/freshness.js'
export type { FreshnessOptions, StaleReport } from './watch/freshness.js'
export { guardConnection } from './net/guard.js'
export type { GuardOptions, ConnectionGuard } from './net/guard.js'
export { keepLooking } from './net/lookup.js'
export type { LookupOptions } from './net/lookup.js'
