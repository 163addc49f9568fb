/**
 * The layer check, file level (`npm run layers`, part of `npm test`).
 * dependency-cruiser reads the TypeScript sources themselves (no compiler
 * needed: it finds every import, type-only ones included, since a folder
 * that needs another's types depends on it too).
 *
 * - no file takes part in an import cycle;
 * - the files directly in src/ are two layers: the entry points (cli, the
 *   client, the package index) that only src/commands may import, and the
 *   utilities (errors, keys, crypto, json, ...) that import no folder of
 *   src/ nor tui/. So the folder check (.dependency-cruiser-folders.cjs),
 *   which leaves the files directly in src/ out, misses no cycle.
 */

const ENTRY = '^src/(cli|client|client-call|client-files|client-options|client-proven-log|client-replicas|deploy-client|index)\\.ts$'

module.exports = {
  forbidden: [
    {
      name: 'no-file-cycle',
      comment: 'Files that import each other, directly or through others.',
      severity: 'error',
      from: {},
      to: { circular: true }
    },
    {
      name: 'utility-imports-no-folder',
      comment: 'A file directly in src/ (not an entry point) is a utility: it may import protocol/ and other utilities only.',
      severity: 'error',
      from: { path: '^src/[^/]+\\.ts$', pathNot: ENTRY },
      to: { path: '^(src/[^/]+/|tui/)' }
    },
    {
      name: 'holepunch-fence',
      comment: 'The private fields of Holepunch modules are touched in src/log/holepunch/ only, and only src/log/holepunch-internals.ts imports that folder.',
      severity: 'error',
      from: { pathNot: '^src/log/(holepunch-internals\\.ts|holepunch/)' },
      to: { path: '^src/log/holepunch/' }
    },
    {
      name: 'entry-imported-from-commands-only',
      comment: 'The entry points (cli, client, index) sit above every folder but src/commands.',
      severity: 'error',
      from: { path: '^(src/[^/]+/|protocol/|tui/)', pathNot: '^src/commands/' },
      to: { path: ENTRY }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js'] }
  }
}
