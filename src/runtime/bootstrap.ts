/**
 * The bootstrap evaluated in each new isolate context before the contract.
 * It is the body of a closure (`context.evalClosure`) that receives two host
 * References, `$0` (files operations) and `$1` (real randomness for oracles
 * in record mode), keeps them in private closure variables, installs the
 * contract-visible globals and returns the driver functions `load`, `run`
 * and `check` (see bootstrap-system.ts). Nothing of the host is left on the
 * global object.
 */

import { DETERMINISM_SOURCE } from './bootstrap-determinism.js'
import { SYSTEM_SOURCE } from './bootstrap-system.js'
import { SURFACE_SOURCE } from './bootstrap-surface.js'

/** File name shown for bootstrap frames in stack traces. */
export const BOOTSTRAP_FILENAME = 'vms:bootstrap'

/** JavaScript source of the bootstrap closure body (strict mode throughout). */
export const BOOTSTRAP_SOURCE: string = [
  'return (function (filesRef, randomRef) {',
  "'use strict'",
  DETERMINISM_SOURCE,
  SURFACE_SOURCE,
  SYSTEM_SOURCE,
  'return { __proto__: null, load, run, check }',
  '})($0, $1)'
].join('\n')

/** First line of the wrapper around contract source: keeps contract line numbers unchanged. */
export const WRAPPER_HEAD = '(function (exports, module) {'
/** Last line of the wrapper around contract source. */
export const WRAPPER_TAIL = '\n})'
