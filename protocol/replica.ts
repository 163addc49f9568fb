/**
 * The replica channel: how a peer that keeps a contract's log (a watcher or
 * seeder) hands over the newest host-signed statements it holds. A separate
 * protomux protocol from the host RPC on purpose: a replica never opens
 * `vms/rpc/v2`, so no client mistakes it for a host that accepts calls.
 * Channel id = contract key. Methods: `root` (empty -> RootStatement, the
 * newest root the contract's signer signed that the replica can serve the
 * blocks of), `head` (empty -> HeadStatement, when it keeps one).
 * Everything it answers is signed by the contract's signer and checked
 * against it by the asker; a replica can withhold, never forge.
 */

/** Protomux protocol name of the replica channel. */
export const REPLICA_PROTOCOL = 'vms/replica/v1'
