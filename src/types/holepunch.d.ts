// Type declarations for the Holepunch modules vms-node uses that ship no types
// of their own; exactly what this project calls is declared here (public API
// only: the private fields it reads are typed in src/log/holepunch-internals.ts).

declare module 'hypercore-id-encoding' {
  const m: {
    encode (key: Uint8Array): string
    decode (id: string | Uint8Array): Buffer
  }
  export default m
}

declare module 'hypercore-crypto' {
  /** A Merkle tree node: flat-tree index, byte size, hash. */
  interface TreeNode { index: number, size: number, hash: Uint8Array }
  const m: {
    keyPair (seed?: Uint8Array): { publicKey: Buffer, secretKey: Buffer }
    sign (message: Uint8Array, secretKey: Uint8Array): Buffer
    verify (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean
    hash (data: Uint8Array | Uint8Array[]): Buffer
    discoveryKey (publicKey: Uint8Array): Buffer
    randomBytes (n: number): Buffer
    /** Leaf hash of a block. */
    data (block: Uint8Array): Buffer
    /** Hash of the parent of two nodes. */
    parent (a: TreeNode, b: TreeNode): Buffer
    /** Tree hash of a list of roots. */
    tree (roots: readonly TreeNode[]): Buffer
  }
  export default m
}

declare module 'hypercore' {
  import type { EventEmitter } from 'events'
  export interface KeyPair { publicKey: Buffer, secretKey: Buffer | null }
  /** A Merkle proof of a block and/or an upgrade (`core.proof()`); its fields are passed through as they are. */
  export interface Proof { block: { value?: Buffer | null } | null, [field: string]: unknown }
  /** A core's manifest, as far as it is read (fields a peer may leave out are optional). */
  export interface Manifest { version?: number, quorum?: number, signers?: Array<{ publicKey: Buffer, namespace: Buffer }> }
  export default class Hypercore extends EventEmitter {
    /** The key of a core with this manifest (or single signer public key). */
    static key (manifest: { version?: number, signers: Array<{ signature?: string, publicKey: Uint8Array, namespace?: Uint8Array }> } | Uint8Array): Buffer
    key: Buffer | null
    discoveryKey: Buffer | null
    keyPair: KeyPair | null
    manifest: Manifest | null
    length: number
    byteLength: number
    contiguousLength: number
    fork: number
    writable: boolean
    opened: boolean
    closed: boolean
    /** The close in progress, null until close() is called. */
    closing: Promise<void> | null
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
    /** Tree nodes not stored here that a request for block `index` asks a peer for (its proof's length). */
    missingNodes (index: number): Promise<number>
    proof (opts: { block?: { index: number, nodes: number }, upgrade?: { start: number, length: number } }): Promise<Proof>
    setUserData (key: string, value: Uint8Array | null): Promise<void>
    getUserData (key: string): Promise<Buffer | null>
    findingPeers (): () => void
    /** A session of the same core; with `atom` (log/holepunch-internals.ts `createAtom`) its writes wait for `atom.flush()`. */
    session (opts?: { atom?: unknown }): Hypercore
    download (range?: { start?: number, end?: number }): { destroy (): void }
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
    createKeyPair (name: string): Promise<{ publicKey: Buffer, secretKey: Buffer }>
    replicate (stream: unknown, opts?: unknown): unknown
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
  export type BlobId = NonNullable<HyperdriveEntry['value']['blob']>
  /** The blobs store of a drive (Hyperblobs). */
  export interface Hyperblobs {
    core: Hypercore
    blockSize: number
    get (id: BlobId): Promise<Buffer | null>
  }
  export default class Hyperdrive {
    constructor (store: Corestore, key?: Uint8Array | null, opts?: unknown)
    key: Buffer | null
    discoveryKey: Buffer | null
    version: number
    core: Hypercore
    ready (): Promise<void>
    close (): Promise<void>
    /** Deletes every stored blob block from local storage. */
    clearAll (): Promise<unknown>
    flush (): Promise<void>
    /** Content of a file, by path or by an entry already read (no second lookup). */
    get (path: string | HyperdriveEntry, opts?: { wait?: boolean, timeout?: number }): Promise<Buffer | null>
    put (path: string, data: Uint8Array): Promise<void>
    putEntry (path: string, entry: { metadata?: unknown, blob?: unknown }): Promise<void>
    del (path: string): Promise<void>
    entry (path: string): Promise<HyperdriveEntry | null>
    readdir (path: string): AsyncIterable<string>
    list (path: string, opts?: { recursive?: boolean }): AsyncIterable<HyperdriveEntry>
    diff (version: number, folder?: string, opts?: unknown): AsyncIterable<{ left: HyperdriveEntry | null, right: HyperdriveEntry | null }>
    checkout (version: number): Hyperdrive
    batch (): Hyperdrive
    truncate (version: number): Promise<void>
    update (opts?: { wait?: boolean }): Promise<boolean>
    findingPeers (): () => void
    /** null while the drive has no blobs core yet (an empty replica) or after close. */
    getBlobs (): Promise<Hyperblobs | null>
    /** Blocks of the blobs core that the database at `checkout` (default: the current version) refers to. */
    getBlobsLength (checkout?: number): Promise<number>
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
  }
  export default class HyperDHT extends EventEmitter {
    /** The public DHT's bootstrap nodes, `host:port` (the exported constant of hyperdht/index.js). */
    static BOOTSTRAP: string[]
    constructor (opts?: DHTOptions)
    /** The nodes of the routing table (dht-rpc `node.toArray([options])`). */
    toArray (opts?: { limit?: number }): Array<{ host: string, port: number }>
    /** Pings one DHT node (dht-rpc `node.ping({ host, port })`); rejects when it does not answer. */
    ping (node: { host: string, port: number }): Promise<unknown>
    ready (): Promise<void>
    destroy (opts?: { force?: boolean }): Promise<void>
  }
}

declare module 'hyperdht/testnet.js' {
  import type HyperDHT from 'hyperdht'
  export interface Testnet {
    nodes: HyperDHT[]
    bootstrap: Array<{ host: string, port: number }>
    destroy (): Promise<void>
  }
  export default function createTestnet (size?: number, opts?: { host?: string, port?: number, teardown?: (fn: () => Promise<void>) => void } | ((fn: () => Promise<void>) => void)): Promise<Testnet>
}

declare module 'hyperswarm' {
  import type { EventEmitter } from 'events'
  import type HyperDHT from 'hyperdht'
  export interface PeerInfo { ban (banned?: boolean): void }
  export interface SwarmConnection extends EventEmitter {
    remotePublicKey: Buffer
    publicKey: Buffer
    /** The transport (a UDX stream): its byte counters and round-trip time, ms. */
    rawStream?: { bytesReceived?: number, bytesTransmitted?: number, rtt?: number }
    write (data: Uint8Array): boolean
    destroy (err?: Error): void
    destroyed: boolean
  }
  export interface Discovery { flushed (): Promise<void>, destroy (): Promise<void>, refresh (opts?: unknown): Promise<void> }
  export default class Hyperswarm extends EventEmitter {
    constructor (opts?: { dht?: HyperDHT, keyPair?: { publicKey: Buffer, secretKey: Buffer }, firewall?: (key: Buffer) => boolean })
    keyPair: { publicKey: Buffer, secretKey: Buffer }
    connections: Set<SwarmConnection>
    peers: Map<string, PeerInfo>
    join (topic: Uint8Array, opts?: { server?: boolean, client?: boolean }): Discovery
    leave (topic: Uint8Array): Promise<void>
    /** The discovery of a joined topic, undefined when not joined. */
    status (topic: Uint8Array): Discovery | undefined
    /** Keeps a connection to the peer with this noise public key (reconnects when it drops). */
    joinPeer (publicKey: Uint8Array): void
    leavePeer (publicKey: Uint8Array): void
    flush (): Promise<void>
    /** Announces this swarm's key pair on the DHT so peers can connect by it. */
    listen (): Promise<void>
    destroy (opts?: { force?: boolean }): Promise<void>
    on (event: 'connection', fn: (conn: SwarmConnection, info: PeerInfo) => void): this
    on (event: string, fn: (...args: any[]) => void): this
  }
}

declare module 'protomux' {
  export default class Protomux {
    static from (stream: unknown, opts?: unknown): Protomux
    createChannel (opts: {
      protocol: string
      id?: Uint8Array | null
      unique?: boolean
      onopen?: (handshake: unknown) => void
      onclose?: () => void
    }): ProtomuxChannel | null
    pair (opts: { protocol: string, id?: Uint8Array | null }, notify: (id: Uint8Array | null) => void): void
  }
  export interface ProtomuxMessage { send (value: unknown): boolean }
  export interface ProtomuxChannel {
    opened: boolean
    closed: boolean
    open (handshake?: unknown): void
    close (): void
    addMessage (opts: { encoding: unknown, onmessage?: (m: any) => void }): ProtomuxMessage
  }
}

declare module 'protomux-rpc' {
  import type { EventEmitter } from 'events'
  export default class ProtomuxRPC extends EventEmitter {
    constructor (stream: unknown, opts?: { id?: Uint8Array, protocol?: string, handshake?: Uint8Array, handshakeEncoding?: unknown })
    closed: boolean
    opened: boolean
    respond<Req = unknown, Res = unknown> (method: string, opts: { requestEncoding?: unknown, responseEncoding?: unknown }, handler: (req: Req) => Res | Promise<Res>): void
    respond<Req = unknown, Res = unknown> (method: string, handler: (req: Req) => Res | Promise<Res>): void
    request<Res = unknown> (method: string, value: unknown, opts?: { requestEncoding?: unknown, responseEncoding?: unknown, timeout?: number }): Promise<Res>
    fullyOpened (): Promise<void>
    destroy (err?: Error): void
  }
}

declare module 'graceful-goodbye' {
  export default function goodbye (fn: () => unknown | Promise<unknown>, position?: number): () => void
}

declare module 'signal-promise' {
  /** A reusable wake-up: `wait()` resolves at the next `notify()` (or, given ms, at most that late). */
  export default class Signal {
    wait (max?: number): Promise<boolean>
    notify (err?: Error): void
  }
}

declare module 'safety-catch' {
  /** Rethrows programmer errors (TypeError, ReferenceError, RangeError, assertion...); ignores the rest. */
  export default function safetyCatch (err: unknown): void
}

declare module 'flat-tree' {
  /** Flat-tree indexing (mafintosh/flat-tree): a node at depth d and offset o has index (2o + 1) * 2^d - 1. */
  const flat: {
    /** Full roots of a tree whose leaves are the even indexes below `index`. */
    fullRoots (index: number): number[]
    depth (index: number): number
    parent (index: number): number
    sibling (index: number): number
    /** Leftmost and rightmost leaf indexes below `index`. */
    spans (index: number): [number, number]
    /** A cursor over the tree, starting at `index`. */
    iterator (index: number): FlatIterator
  }
  /** A flat-tree cursor: its node's index and span (`factor`: twice the leaves below it). */
  export interface FlatIterator {
    index: number
    factor: number
    /** True when the node spans tree index `index`. */
    contains (index: number): boolean
    /** Moves to the parent node; @returns its index */
    parent (): number
  }
  export default flat
}
