/**
 * Feeds a {@link NodeState} from the attestation gossip: every attestation
 * heard becomes that watcher's latest verdict on the contract (raising
 * "audited up to" of a hosted contract when ok), counts for the peer that
 * sent it, and a fault or equivocation gets an event log line.
 */

import { VERDICT_EQUIVOCATION, VERDICT_OK, type Attestation } from '../protocol/index.js'
import { formatKey } from '../src/keys.js'
import { shortKey } from './format.js'
import type { NodeState, VerdictView } from './state.js'

/**
 * What the adapter needs of a gossip channel: `attestation` events
 * (attestation, sender's noise key) and, optionally, the store of what it
 * kept (attestations from earlier runs, shown at once after a restart).
 */
export interface AttestationSource {
  on (event: 'attestation', fn: (a: Attestation, from: Uint8Array) => void): unknown
  off (event: 'attestation', fn: (a: Attestation, from: Uint8Array) => void): unknown
  store?: { all (): Attestation[] }
}

/** An attestation as the verdicts panel shows it. */
export function attestationView (a: Attestation): VerdictView {
  const view: VerdictView = {
    contract: formatKey(a.contract),
    watcher: formatKey(a.watcher),
    length: a.length,
    verdict: a.verdict === VERDICT_OK ? 'ok' : a.verdict === VERDICT_EQUIVOCATION ? 'equivocation' : 'fault',
    at: a.time
  }
  if (a.fault) {
    view.firstBadCall = a.fault.index
    view.kind = a.fault.kind
    view.message = a.fault.message
  }
  return view
}

/**
 * Subscribes `state` to the attestations `gossip` hears, after showing the
 * latest verdict of every watcher its store kept (restored after a restart;
 * the store checked each signature when it was added).
 * @returns a function that unsubscribes
 */
export function attachGossip (gossip: AttestationSource, state: NodeState): () => void {
  for (const a of gossip.store?.all() ?? []) {
    const v = attestationView(a)
    const before = state.snapshot.verdicts.find((x) => x.contract === v.contract && x.watcher === v.watcher)
    if (!before || before.at <= v.at) state.setVerdict(v)
  }
  const onattestation = (a: Attestation, from: Uint8Array): void => {
    const v = attestationView(a)
    const before = state.snapshot.verdicts.find((x) => x.contract === v.contract && x.watcher === v.watcher)
    if (before && before.at > v.at) return // an older statement forwarded late
    state.setVerdict(v)
    state.countAttestation(formatKey(from))
    if (v.verdict !== 'ok' && before?.verdict !== v.verdict) {
      state.log('error', `${v.verdict.toUpperCase()} ${shortKey(v.contract)} by watcher ${shortKey(v.watcher)}: #${v.firstBadCall ?? '?'} ${v.kind ?? ''}${v.message ? ': ' + v.message : ''}`)
    } else if (!before) {
      state.log('verdict', `watcher ${shortKey(v.watcher)} attests ${v.verdict} ${shortKey(v.contract)} up to length ${v.length}`)
    }
  }
  gossip.on('attestation', onattestation)
  return () => { gossip.off('attestation', onattestation) }
}
