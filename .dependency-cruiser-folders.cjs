/**
 * The layer check, folder level (`npm run layers`, part of `npm test`): no
 * folder (src/<folder>, protocol, tui) imports a folder that imports it
 * back, directly or through other folders. The files directly in src/ are
 * left out here; .dependency-cruiser.cjs keeps them out of any cycle.
 */

const base = require('./.dependency-cruiser.cjs')

module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycle',
      comment: 'A folder imports a folder that imports it back. Move what both need to a folder below both (README: layout).',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true }
    }
  ],
  options: {
    ...base.options,
    exclude: { path: ['^(node_modules|dist)/', '^src/[^/]+\\.tsx?$'] }
  }
}
