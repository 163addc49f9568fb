/**
 * Caller identities: an ed25519 key pair persisted in a JSON file, created on
 * first use with mode 0600. `System.caller.id` of a call is the z-base32 text
 * of the identity's public key.
 */

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { keyPair } from './crypto.js'
import type { KeyPair } from './crypto.js'
import { VmsError } from './errors.js'
import { formatKey } from './keys.js'

/** A loaded caller identity. */
export interface Identity extends KeyPair {
  /** z-base32 public key: the caller id contracts see. */
  id: string
}

/**
 * Default identity file: `$VMS_NODE_IDENTITY`, else `~/.vms-node/identity.json`.
 */
export function defaultIdentityPath (): string {
  return process.env.VMS_NODE_IDENTITY || path.join(os.homedir(), '.vms-node', 'identity.json')
}

/** Wraps a key pair as an {@link Identity}. */
export function toIdentity (kp: KeyPair): Identity {
  return { publicKey: kp.publicKey, secretKey: kp.secretKey, id: formatKey(kp.publicKey) }
}

/**
 * Loads the identity at `file`, creating it (and its folder) when missing.
 * File format: `{ "publicKey": "<64 hex>", "secretKey": "<128 hex>" }`.
 * @throws VmsError BAD_ARGUMENT when the file exists but is not an identity
 */
export function loadIdentity (file: string = defaultIdentityPath()): Identity {
  let text: string | null = null
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw VmsError.BAD_ARGUMENT(`cannot read identity ${file}: ${(err as Error).message}`)
  }
  if (text === null) {
    const kp = keyPair()
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const body = JSON.stringify({ publicKey: kp.publicKey.toString('hex'), secretKey: kp.secretKey.toString('hex') }, null, 2) + '\n'
    fs.writeFileSync(file, body, { mode: 0o600, flag: 'wx' })
    return toIdentity(kp)
  }
  try {
    const json = JSON.parse(text) as { publicKey?: string, secretKey?: string }
    const publicKey = Buffer.from(String(json.publicKey), 'hex')
    const secretKey = Buffer.from(String(json.secretKey), 'hex')
    if (publicKey.byteLength !== 32 || secretKey.byteLength !== 64 || !secretKey.subarray(32).equals(publicKey)) throw new Error('bad key lengths')
    return toIdentity({ publicKey, secretKey })
  } catch {
    throw VmsError.BAD_ARGUMENT(`not an identity file: ${file}`)
  }
}
