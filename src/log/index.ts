/** Call log and files: see contract-log.ts and drive-files.ts. */
export { ContractLog, decodeBlock } from './contract-log.js'
export type { ContractLogOptions, RecoveryReport } from './contract-log.js'
export { DriveFiles, applyWrites, isDirEntry } from './drive-files.js'
