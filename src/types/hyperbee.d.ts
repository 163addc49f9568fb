// Hyperbee 2, as far as the node's own state (src/node/node-state.ts) uses it.
declare module 'hyperbee' {
  import type Hypercore from 'hypercore'
  export interface BeeEntry<V> { seq: number, key: string, value: V }
  export interface BeeBatch<V> {
    put (key: string, value: V): Promise<void>
    del (key: string): Promise<void>
    flush (): Promise<void>
    close (): Promise<void>
  }
  export default class Hyperbee<V = Buffer> {
    constructor (core: Hypercore, opts?: { keyEncoding?: 'utf-8' | 'binary', valueEncoding?: 'utf-8' | 'binary' | 'json' })
    readonly core: Hypercore & { byteLength: number, closing: Promise<void> | null }
    ready (): Promise<void>
    close (): Promise<void>
    get (key: string): Promise<BeeEntry<V> | null>
    put (key: string, value: V): Promise<void>
    del (key: string): Promise<void>
    batch (): BeeBatch<V>
    createReadStream (range?: { gt?: string, gte?: string, lt?: string, lte?: string }): AsyncIterable<BeeEntry<V>>
  }
}
