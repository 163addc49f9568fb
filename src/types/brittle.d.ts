// Type declarations for the parts of brittle 4 the tests use.

declare module 'brittle' {
  export interface Assertion {
    is (actual: unknown, expected: unknown, message?: string): void
    not (actual: unknown, expected: unknown, message?: string): void
    alike (actual: unknown, expected: unknown, message?: string): void
    unlike (actual: unknown, expected: unknown, message?: string): void
    ok (value: unknown, message?: string): void
    absent (value: unknown, message?: string): void
    pass (message?: string): void
    fail (message?: string): void
    exception (fn: Promise<unknown> | (() => unknown), expected?: RegExp | Error | unknown, message?: string): Promise<void>
    execution (fn: Promise<unknown> | (() => unknown), message?: string): Promise<void>
    plan (n: number): void
    comment (message: string): void
    teardown (fn: () => unknown, opts?: { order?: number, force?: boolean }): void
    timeout (ms: number): void
    test (name: string, fn: (t: Test) => unknown): Promise<void>
  }
  export interface Test extends Assertion {}
  interface TestFn {
    (name: string, fn: (t: Test) => unknown): void
    (name: string, opts: { timeout?: number, skip?: boolean }, fn: (t: Test) => unknown): void
    skip (name: string, fn: (t: Test) => unknown): void
    solo (name: string, fn: (t: Test) => unknown): void
    configure (opts: { timeout?: number, bail?: boolean }): void
  }
  const test: TestFn
  export default test
}
