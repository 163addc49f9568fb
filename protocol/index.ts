/**
 * vms-node wire and log formats: constants and compact-encoding codecs.
 * Pure data, no I/O.
 */
export * from './constants.js'
export * from './messages.js'
export * from './attestation.js'
export * from './head.js'
export * from './limits.js'
export * from './proof.js'
export * from './replica.js'
export * from './deploy.js'
export * from './genesis-deploy.js'
