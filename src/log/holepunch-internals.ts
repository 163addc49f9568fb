/**
 * Every touch of a private field of a Holepunch module, in one place. The
 * rest of the code calls these functions and never casts its way into
 * Hypercore, Hyperbee or Hyperdrive itself. The code is in holepunch/
 * (hypercore.ts; hyperdrive.ts, Hyperbee's with it; fence.ts, what they
 * share), which only this module imports (the layer check says so).
 *
 * What is touched, and by whom:
 * - Hypercore `core.state.roots` / `core.state.length`: the Merkle roots of
 *   the current length ({@link coreRoots}; log/merkle.ts, host group commit).
 * - Hypercore `core.state.storage.read().getTreeNode()`: stored tree nodes
 *   ({@link readTreeNodes}; log/block-proof.ts, attest/head-evidence.ts).
 * - Hypercore `core.state.storage.read().getBlock()`: stored blocks, many in
 *   one read batch ({@link readStoredBlocks}; log/local-blocks.ts, read
 *   ahead by the watcher's judge and by every replay).
 * - Hypercore `core.replicator.setInflightRange()`: more block requests in
 *   flight per peer ({@link widenRequests}; watch/judge.ts).
 * - Hypercore `lib/merkle-tree.js` `MerkleTree.missingNodes`, replaced by
 *   the same count with its storage reads batched ({@link batchMissingNodes};
 *   watch/judge.ts, for the whole process).
 * - Hyperdrive `batch.db`, the Hyperbee batch under a drive batch, and that
 *   batch's `_append`, `toBlocks`, `blocks`, `appending`, `length`
 *   ({@link driveBatchBee}, {@link interceptBeeBlocks}; log/bee-eager.ts).
 * - `hyperbee/lib/messages.js`, Hyperbee's block codecs, loaded from the
 *   Hyperbee Hyperdrive itself loads ({@link hyperbeeMessages}).
 * - Hyperbee `bee._nodeCache` of a drive's database (`drive.db`), where
 *   Hyperbee keeps the blocks it read, decoded: the host puts the blocks it
 *   just appended there ({@link cacheBeeNodes}; log/contract-log.ts). The
 *   checkouts a replay reads through are given one cache of their own per
 *   fork instead of one each, so what one version's lookups read serves
 *   every later version's, and a replay reads blocks ahead into it
 *   ({@link shareBeeNodeCache}, {@link putBeeNodes}; replay/checkouts.ts,
 *   replay/replay-ahead.ts).
 * - Hyperbee `bee._sessions` of a drive checkout's database, and its core's
 *   `snapshotted`: a checkout reads through the snapshot it holds instead
 *   of one more per read ({@link readCheckoutInPlace}; replay/checkouts.ts).
 * - Hyperdrive `drive.blobs`, the Hyperblobs a drive has loaded so far (the
 *   public `getBlobs()` is async and loads them; {@link loadedBlobsCore};
 *   host/deploy-service.ts storage quota, checked in {@link checkDrive}).
 * - Hypercore `core.state.storage.createAtom()`: a storage atom, so that
 *   sessions opened with it (`core.session({ atom })`, public) of several
 *   cores of one store reach storage in one write on `atom.flush()`
 *   ({@link createAtom}; log/atomic-append.ts, the host's group commit).
 *   Hypercore's README shows it this way.
 * - Hypercore replication peers' `remoteContiguousLength` (`core.peers` is
 *   public, the shape of its peers is not; {@link replicationPeers};
 *   tui/host-adapter.ts replica count, attest/quorum.ts a replica still fetching an announced length; checked in {@link checkPeers}).
 * - A closed Hypercore session's `core` and `state`, set to null so a
 *   sleeping contract's closed log keeps no core memory alive
 *   ({@link releaseClosedSession}; host/sleep-state.ts).
 *
 * Each access is feature-checked: {@link checkCore} and
 * {@link checkDriveBatch} throw VmsError INTERNAL naming the field and the
 * installed module version when a field moved; the helpers used on hot
 * paths return null instead, and their callers fall back (slower, same
 * results). test/holepunch-internals.test.ts runs the checks on real
 * objects, so an upgrade that moves a field fails that test loudly instead
 * of silently taking the slow path.
 *
 * The hypercore pin: package.json pins hypercore to exactly 11.37.1, in
 * `dependencies` and in `overrides` (so Corestore and Hyperdrive load that
 * same copy: one class, one set of internals). The fields above are what
 * the pin protects; they were checked against 11.37.1 ({@link TESTED}). To
 * upgrade, change both entries together and run the test above.
 */

export { TESTED } from './holepunch/fence.js'
export * from './holepunch/hypercore.js'
export * from './holepunch/hyperdrive.js'
