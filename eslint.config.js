// Lint: neostandard (the standard style Holepunch modules follow), with its
// TypeScript rules and no type information.
//
// typescript-eslint parses with the TypeScript compiler's JS API, which
// TypeScript 7 (what tsc here is) no longer has: for this process only,
// `typescript` resolves to TypeScript 5 (the `typescript5` devDependency).
import Module from 'node:module'

const require = Module.createRequire(import.meta.url)
const ts5 = require.resolve('typescript5')
const resolve = Module._resolveFilename
Module._resolveFilename = function (request, ...rest) {
  return resolve.call(this, request === 'typescript' ? ts5 : request, ...rest)
}

const { default: neostandard } = await import('neostandard')

export default [
  ...neostandard({
    ts: true,
    // examples/ are contracts (sandbox code with its own globals), kept as the seeds wrote them;
    // src/types/isolated-vm.d.ts is isolated-vm's own declaration file, copied as it ships
    ignores: ['dist/**', 'node_modules/**', 'examples/**', 'src/types/isolated-vm.d.ts']
  }),
  {
    rules: {
      // `void promise()` as a statement marks a promise left to run on purpose
      'no-void': ['error', { allowAsStatement: true }],
      // it cannot see a callback changing the condition, which is what every loop it flagged here waits for
      'no-unmodified-loop-condition': 'off'
    }
  },
  {
    files: ['test/**'],
    // tests hold contract sources in strings, template literals included
    rules: { 'no-template-curly-in-string': 'off' }
  }
]
