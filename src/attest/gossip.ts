/**
 * Gossip over this node's attestation store: src/net/gossip.ts's `Gossip`
 * knows the store only through its `AttestationPool` interface (so net/
 * does not import attest/); the node that owns both wants the store's full
 * type back (`gossip.store.want(...)`, `flush()`), which this names.
 */

import { Gossip } from '../net/gossip.js'
import type { AttestationStore } from './store.js'

/** A {@link Gossip} whose store is an {@link AttestationStore}. */
export class AttestationGossip extends Gossip<AttestationStore> {}
