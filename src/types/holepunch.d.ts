// Minimal type declarations for the Holepunch modules vms-node uses. They ship
// no types of their own; only what this project calls is declared here.

declare module 'compact-encoding' {
  export interface State { start: number, end: number, buffer: Uint8Array | null }
  export interface Encoding<T> {
    preencode (state: State, m: T): void
    encode (state: State, m: T): void
    decode (state: State): T
  }
  export function state (start?: number, end?: number, buffer?: Uint8Array | null): State
  export function encode<T> (enc: Encoding<T>, m: T): Uint8Array
  export function decode<T> (enc: Encoding<T>, buf: Uint8Array): T
  export const uint: Encoding<number>
  export const uint8: Encoding<number>
  export const uint32: Encoding<number>
  export const uint64: Encoding<number>
  export const bool: Encoding<boolean>
  export const string: Encoding<string>
  export const utf8: Encoding<string>
  export const buffer: Encoding<Uint8Array | null>
  export const fixed32: Encoding<Uint8Array>
  export const fixed64: Encoding<Uint8Array>
  export const raw: Encoding<Uint8Array>
  export const none: Encoding<null>
  export function array<T> (enc: Encoding<T>): Encoding<T[]>
  export function frame<T> (enc: Encoding<T>): Encoding<T>
  const c: {
    state: typeof state, encode: typeof encode, decode: typeof decode,
    uint: Encoding<number>, uint8: Encoding<number>, uint32: Encoding<number>, uint64: Encoding<number>,
    bool: Encoding<boolean>, string: Encoding<string>, utf8: Encoding<string>,
    buffer: Encoding<Uint8Array | null>, fixed32: Encoding<Uint8Array>, fixed64: Encoding<Uint8Array>,
    raw: Encoding<Uint8Array>, none: Encoding<null>, array: typeof array, frame: typeof frame
  }
  export default c
}

declare module 'hypercore-id-encoding' {
  export function encode (key: Uint8Array): string
  export function decode (id: string | Uint8Array): Buffer
  export function normalize (id: string | Uint8Array): string
  export function isValid (id: unknown): boolean
  const m: { encode: typeof encode, decode: typeof decode, normalize: typeof normalize, isValid: typeof isValid }
  export default m
}

declare module 'hypercore-crypto' {
  export interface KeyPair { publicKey: Buffer, secretKey: Buffer }
  export function keyPair (seed?: Uint8Array): KeyPair
  export function sign (message: Uint8Array, secretKey: Uint8Array): Buffer
  export function verify (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean
  export function hash (data: Uint8Array | Uint8Array[]): Buffer
  export function discoveryKey (publicKey: Uint8Array): Buffer
  export function randomBytes (n: number): Buffer
  /** A Merkle tree node: flat-tree index, byte size, hash. */
  export interface TreeNode { index: number, size: number, hash: Uint8Array }
  /** Leaf hash of a block. */
  export function data (block: Uint8Array): Buffer
  /** Hash of the parent of two nodes. */
  export function parent (a: TreeNode, b: TreeNode): Buffer
  /** Tree hash of a list of roots. */
  export function tree (roots: readonly TreeNode[]): Buffer
  const m: {
    keyPair: typeof keyPair, sign: typeof sign, verify: typeof verify, hash: typeof hash,
    discoveryKey: typeof discoveryKey, randomBytes: typeof randomBytes,
    data: typeof data, parent: typeof parent, tree: typeof tree
  }
  export default m
}

declare module 'sodium-universal' {
  export const crypto_generichash_BYTES: number
  export function crypto_generichash (out: Uint8Array, input: Uint8Array, key?: Uint8Array): void
  export function crypto_generichash_batch (out: Uint8Array, inputs: Uint8Array[], key?: Uint8Array): void
  export function randombytes_buf (buf: Uint8Array): void
  const m: {
    crypto_generichash_BYTES: number
    crypto_generichash: typeof crypto_generichash
    crypto_generichash_batch: typeof crypto_generichash_batch
    randombytes_buf: typeof randombytes_buf
  }
  export default m
}

declare module 'hypercore' {
  import type { EventEmitter } from 'events'
  export interface KeyPair { publicKey: Buffer, secretKey: Buffer | null }
  export default class Hypercore extends EventEmitter {
    /** The key of a core with this manifest (or single signer public key). */
    static key (manifest: { version: number, signers: Array<{ publicKey: Uint8Array }> } | Uint8Array): Buffer
    key: Buffer | null
    discoveryKey: Buffer | null
    keyPair: KeyPair | null
    manifest: unknown
    length: number
    contiguousLength: number
    signedLength: number
    fork: number
    writable: boolean
    readable: boolean
    opened: boolean
    closed: boolean
    peers: unknown[]
    ready (): Promise<void>
    close (): Promise<void>
    /** Deletes stored blocks [start, end) from local storage. */
    clear (start: number, end?: number): Promise<unknown>
    append (block: Uint8Array | Uint8Array[]): Promise<{ length: number, byteLength: number }>
    get (index: number, opts?: { wait?: boolean, timeout?: number, valueEncoding?: unknown }): Promise<Buffer | null>
    has (start: number, end?: number): Promise<boolean>
    update (opts?: { wait?: boolean }): Promise<boolean>
    truncate (length: number, opts?: unknown): Promise<void>
    treeHash (length?: number): Promise<Buffer>
    signable (length?: number, fork?: number): Promise<Buffer>
    setUserData (key: string, value: Uint8Array | null): Promise<void>
    getUserData (key: string): Promise<Buffer | null>
    findingPeers (): () => void
    download (range?: { start?: number, end?: number, linear?: boolean }): { done (): Promise<void>, destroy (): void }
    session (opts?: unknown): Hypercore
    snapshot (opts?: unknown): Hypercore
  }
}

declare module 'corestore' {
  import type Hypercore from 'hypercore'
  export default class Corestore {
    constructor (storage: string, opts?: unknown)
    ready (): Promise<void>
    close (): Promise<void>
    get (opts: { name?: string, key?: Uint8Array, exclusive?: boolean, valueEncoding?: unknown, keyPair?: { publicKey: Uint8Array, secretKey: Uint8Array }, manifest?: { version: number, signers: Array<{ publicKey: Uint8Array }> } } | Uint8Array): Hypercore
    namespace (name: string): Corestore
    session (opts?: unknown): Corestore
    replicate (stream: unknown, opts?: unknown): unknown
    findingPeers (): () => void
    createKeyPair (name: string): Promise<{ publicKey: Buffer, secretKey: Buffer }>
  }
}

declare module 'hyperdrive' {
  import type Corestore from 'corestore'
  import type Hypercore from 'hypercore'
  export interface HyperdriveEntry {
    seq: number
    key: string
    value: {
      executable: boolean
      linkname: string | null
      blob: { byteOffset: number, blockOffset: number, blockLength: number, byteLength: number } | null
      metadata: unknown
    }
  }
  export default class Hyperdrive {
    constructor (store: Corestore, key?: Uint8Array | null, opts?: unknown)
    key: Buffer | null
    discoveryKey: Buffer | null
    version: number
    core: Hypercore
    db: { core: Hypercore, version: number }
    writable: boolean
    ready (): Promise<void>
    close (): Promise<void>
    /** Deletes every stored blob block from local storage. */
    clearAll (): Promise<unknown>
    flush (): Promise<void>
    get (path: string, opts?: { wait?: boolean, timeout?: number }): Promise<Buffer | null>
    put (path: string, data: Uint8Array, opts?: { metadata?: unknown }): Promise<void>
    putEntry (path: string, entry: { metadata?: unknown, blob?: unknown }): Promise<void>
    del (path: string): Promise<void>
    entry (path: string, opts?: { wait?: boolean, timeout?: number }): Promise<HyperdriveEntry | null>
    exists (path: string): Promise<boolean>
    readdir (path: string): AsyncIterable<string>
    list (path: string, opts?: { recursive?: boolean }): AsyncIterable<HyperdriveEntry>
    diff (version: number, folder?: string, opts?: unknown): AsyncIterable<{ left: HyperdriveEntry | null, right: HyperdriveEntry | null }>
    checkout (version: number): Hyperdrive
    batch (): Hyperdrive
    truncate (version: number, opts?: { blobs?: number }): Promise<void>
    update (opts?: { wait?: boolean }): Promise<boolean>
    findingPeers (): () => void
    getBlobs (): Promise<{ core: Hypercore }>
  }
}

declare module 'hyperdht' {
  import type { EventEmitter } from 'events'
  export interface DHTOptions {
    bootstrap?: Array<string | { host: string, port: number }>
    host?: string
    port?: number
    firewalled?: boolean
    ephemeral?: boolean
    keyPair?: { publicKey: Buffer, secretKey: Buffer }
  }
  export default class HyperDHT extends EventEmitter {
    constructor (opts?: DHTOptions)
    static keyPair (seed?: Uint8Array): { publicKey: Buffer, secretKey: Buffer }
    static bootstrapper (port: number, host: string, opts?: unknown): HyperDHT
    ready (): Promise<void>
    destroy (opts?: { force?: boolean }): Promise<void>
    address (): { host: string, port: number }
    defaultKeyPair: { publicKey: Buffer, secretKey: Buffer }
  }
}

declare module 'hyperdht/testnet.js' {
  import type HyperDHT from 'hyperdht'
  export interface Testnet {
    nodes: HyperDHT[]
    bootstrap: Array<{ host: string, port: number }>
    createNode (opts?: unknown): HyperDHT
    destroy (): Promise<void>
  }
  export default function createTestnet (size?: number, opts?: { host?: string, port?: number, teardown?: (fn: () => Promise<void>) => void } | ((fn: () => Promise<void>) => void)): Promise<Testnet>
}

declare module 'hyperswarm' {
  import type { EventEmitter } from 'events'
  import type HyperDHT from 'hyperdht'
  export interface PeerInfo { publicKey: Buffer, client: boolean, topics: Buffer[] }
  export interface SwarmConnection extends EventEmitter {
    remotePublicKey: Buffer
    publicKey: Buffer
    rawStream?: { remoteHost?: string, remotePort?: number, rtt?: number }
    userData: unknown
    write (data: Uint8Array): boolean
    end (): void
    destroy (err?: Error): void
    destroyed: boolean
  }
  export interface Discovery { flushed (): Promise<void>, destroy (): Promise<void>, refresh (opts?: unknown): Promise<void> }
  export default class Hyperswarm extends EventEmitter {
    constructor (opts?: { dht?: HyperDHT, bootstrap?: unknown, keyPair?: { publicKey: Buffer, secretKey: Buffer }, maxPeers?: number, firewall?: (key: Buffer) => boolean })
    keyPair: { publicKey: Buffer, secretKey: Buffer }
    dht: HyperDHT
    connections: Set<SwarmConnection>
    peers: Map<string, PeerInfo>
    join (topic: Uint8Array, opts?: { server?: boolean, client?: boolean }): Discovery
    leave (topic: Uint8Array): Promise<void>
    /** Keeps a connection to the peer with this noise public key (reconnects when it drops). */
    joinPeer (publicKey: Uint8Array): void
    leavePeer (publicKey: Uint8Array): void
    flush (): Promise<void>
    listen (): Promise<void>
    destroy (opts?: { force?: boolean }): Promise<void>
    on (event: 'connection', fn: (conn: SwarmConnection, info: PeerInfo) => void): this
    on (event: string, fn: (...args: any[]) => void): this
  }
}

declare module 'protomux' {
  export default class Protomux {
    static from (stream: unknown, opts?: unknown): Protomux
    stream: unknown
    createChannel (opts: {
      protocol: string
      id?: Uint8Array | null
      handshake?: unknown
      unique?: boolean
      messages?: unknown[]
      onopen?: (handshake: unknown) => void
      onclose?: () => void
      ondestroy?: () => void
    }): ProtomuxChannel | null
    pair (opts: { protocol: string, id?: Uint8Array | null }, notify: (id: Uint8Array | null) => void): void
    unpair (opts: { protocol: string, id?: Uint8Array | null }): void
    opened (opts: { protocol: string, id?: Uint8Array | null }): boolean
    destroy (err?: Error): void
  }
  export interface ProtomuxMessage { send (value: unknown): boolean }
  export interface ProtomuxChannel {
    messages: ProtomuxMessage[]
    opened: boolean
    closed: boolean
    open (handshake?: unknown): void
    close (): void
    addMessage (opts: { encoding: unknown, onmessage?: (m: any) => void }): ProtomuxMessage
  }
}

declare module 'protomux-rpc' {
  import type { EventEmitter } from 'events'
  export interface RPCOptions {
    id?: Uint8Array
    protocol?: string
    valueEncoding?: unknown
    handshake?: unknown
    handshakeEncoding?: unknown
  }
  export default class ProtomuxRPC extends EventEmitter {
    constructor (stream: unknown, opts?: RPCOptions)
    closed: boolean
    opened: boolean
    mux: unknown
    stream: unknown
    respond<Req = unknown, Res = unknown> (method: string, opts: { requestEncoding?: unknown, responseEncoding?: unknown, valueEncoding?: unknown }, handler: (req: Req) => Res | Promise<Res>): void
    respond<Req = unknown, Res = unknown> (method: string, handler: (req: Req) => Res | Promise<Res>): void
    request<Res = unknown> (method: string, value: unknown, opts?: { requestEncoding?: unknown, responseEncoding?: unknown, valueEncoding?: unknown, timeout?: number }): Promise<Res>
    fullyOpened (): Promise<void>
    end (): Promise<void>
    destroy (err?: Error): void
  }
}

declare module 'graceful-goodbye' {
  export default function goodbye (fn: () => unknown | Promise<unknown>, position?: number): () => void
}
