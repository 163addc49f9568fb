// `verify` of a 10,000-call log finishes, and its speed is printed next to
// the host's (the same code as scripts/bench-verify.ts, one run).

import test from 'brittle'
import { benchOnce } from '../scripts/bench-verify.js'

test('verify a 10,000-call log (group-committed by an in-process host) and print host vs replay calls/s', { timeout: 300_000 }, async (t) => {
  const run = await benchOnce({ calls: 10_000, window: 512, timeout: 60_000 })
  t.comment(JSON.stringify(run))
  t.comment(`host: ${run.hostCallsPerSec} calls/s (${run.hostSeconds} s, ${run.hostBatches} group commits); verify: ${run.replayCallsPerSec} calls/s (${run.verifySeconds} s)`)
  t.is(run.verdict, 'ok')
  t.is(run.logLength, 10_001, 'genesis + 10,000 call records')
  t.is(run.judged, 10_000, 'every call judged')
  t.ok(run.hostBatches < 1000, 'calls were group-committed')
})
