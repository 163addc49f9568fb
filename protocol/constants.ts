/**
 * Protocol constants: domain tags that start every signed payload, protomux
 * protocol names, and the version numbers of the records in the call log.
 * A signature made under one tag can never verify under another.
 */

/** Domain tag of a call request signed by its caller. */
export const TAG_CALL = 'vms/call/v1'
/** Domain tag of a host's signed log root (receipts, statements seen by watchers). */
export const TAG_ROOT = 'vms/root/v1'
/** Domain tag of a watcher attestation. */
export const TAG_ATTEST = 'vms/attest/v1'

/**
 * protomux-rpc protocol name of the host RPC channel (its channel id is the
 * contract key). v2: `call` and `info` replies carry proofs (proof.ts).
 */
export const RPC_PROTOCOL = 'vms/rpc/v2'
/** protomux protocol name of the attestation gossip channel. */
export const GOSSIP_PROTOCOL = 'vms/gossip/v1'

/** Version of the genesis and call record layouts written by this code. */
export const RECORD_VERSION = 1

/** Type byte that starts every call log block. */
export const BLOCK_GENESIS = 0
export const BLOCK_CALL = 1

/** Name of the method called at deploy time, when the contract exports it. */
export const INIT_METHOD = 'init'
/** Method name of a contract whose `module.exports` is itself a function. */
export const DEFAULT_METHOD = 'default'

/** Drive entry metadata that marks a directory made by `System.files.mkdir`. */
export const DIR_METADATA = Object.freeze({ vms: 'dir' })
