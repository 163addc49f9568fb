/**
 * The client's call loop (`VmsClient.call`): one signed request sent to the
 * contract's peers until one proves its reply. A peer is believed only when
 * its reply proves the call's record in the signed log (attest/reply.ts); a
 * peer that forged it is banned and the same signed request goes to the next
 * peer (its nonce makes the host run it at most once, so resending is never
 * a second call). On NONCE_REUSED from a proven peer the log is searched
 * for this very request first (a peer may have relayed it to the host
 * before forging its answer); a fresh nonce is only used when it is not
 * there, no other peer got the request and this peer served verified calls
 * before: a rejection is never signed, and re-signing a request that a relay
 * got logged would run it twice.
 */

import type Hypercore from 'hypercore'
import type { CallRequest, RootStatement, SignerRecord } from '../protocol/index.js'
import { VmsError } from './errors.js'
import type { Peer, PeerSet } from './net/peers.js'
import { findLoggedCall, verifyCallReply, type VerifiedCall } from './attest/reply.js'

/** What the call loop reads of its client. */
export interface CallContext {
  /** The contract's peers (proven ones first). */
  peers: PeerSet
  /** The replicated call log (searched on NONCE_REUSED). */
  core: Hypercore
  /** Contract key, 32 bytes. */
  key: Uint8Array
  /** Per request and per log search, ms. */
  timeout: number
  /** The longest current verified root. */
  root: () => Promise<RootStatement>
  /** The log's proven signer. */
  signer: () => Promise<SignerRecord>
}

/**
 * Sends `req` to the peers until one proves its reply (or the record is
 * found in the signed log).
 * @param resign signs the same call with a fresh nonce (see above for when it is used)
 * @returns the verified call and the peer that proved it (null: found in the log)
 * @throws VmsError the rejection code of the host (BAD_SIGNATURE, UNKNOWN_METHOD, NONCE_REUSED...),
 *   FORGED_REPLY (every peer that answered forged its reply), NOT_FOUND, REQUEST_TIMEOUT, CLOSED
 */
export async function sendCall (ctx: CallContext, req: CallRequest, resign: () => CallRequest): Promise<{ peer: Peer | null, verified: VerifiedCall }> {
  const tried = new Set<Peer>()
  let fresh = 0
  let last: VmsError | null = null
  for (;;) {
    let peer: Peer
    try {
      peer = await ctx.peers.next(tried, ctx.timeout)
    } catch (err) {
      throw last ?? err
    }
    tried.add(peer)
    let reply
    try {
      reply = await peer.rpc.call(req, ctx.timeout)
    } catch (err) {
      const e = VmsError.from(err)
      if (e.code !== 'CLOSED' && e.code !== 'REQUEST_TIMEOUT') throw e
      last = e
      continue
    }
    if (!reply.accepted) {
      const e = VmsError.fromInfo(reply.error)
      if (e.code === 'NONCE_REUSED' && peer.proven) {
        // a peer we sent it to may have relayed it: is this very request in the signed log?
        const logged = await findLoggedCall(ctx.core, await ctx.root(), await ctx.signer(), req, ctx.timeout)
        if (logged) return { peer: null, verified: logged }
        if (peer.served && tried.size === 1 && fresh < 2) {
          // not logged, no other peer got it, and this peer served our calls before:
          // another process with the same identity used a larger nonce
          fresh++
          tried.clear()
          req = resign()
          continue
        }
        throw VmsError.NONCE_REUSED(`${e.message} (not in the last blocks of the signed log; not re-signed, so it can never run twice)`)
      }
      if (!peer.served && ctx.peers.list.some((p) => !tried.has(p))) {
        last = e // a rejection is never signed: from a peer that never served a call of ours, ask the next one with the same request
        continue
      }
      throw e
    }
    let verified
    try {
      verified = verifyCallReply(ctx.key, req, reply)
    } catch (err) {
      const e = VmsError.from(err)
      if (e.code !== 'FORGED_REPLY') throw e
      ctx.peers.ban(peer, e.message)
      last = e
      continue
    }
    return { peer, verified }
  }
}
