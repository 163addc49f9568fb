#!/usr/bin/env node
// Install step of vms-node (package.json "install"). isolated-vm 6.2.0 and
// 7.0.1 carry prebuilt binaries for Node 22, 24 and 26 and need no install
// script; 5.0.4 (Node 20) carries none, so package.json's allowScripts turns
// off isolated-vm's own install scripts (which would also try to build 5.0.4
// on every newer Node, for nothing) and this script runs 5.0.4's original
// step only on Node 20 (module ABI 115): a downloaded prebuild, else a
// build from source (needs g++, make and python3).
'use strict'
const { execSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

if (process.versions.modules !== '115') process.exit(0)
let dir
try {
  dir = path.dirname(require.resolve('isolated-vm-5/package.json', { paths: [path.join(__dirname, '..')] }))
} catch {
  console.error('vms-node: isolated-vm-5 is not installed; Node 20 needs it (run npm install again)')
  process.exit(0) // optional: the runtime says UNSUPPORTED_NODE if it is missing
}
if (fs.existsSync(path.join(dir, 'out', 'isolated_vm.node'))) process.exit(0)
console.error('vms-node: building isolated-vm 5.0.4 for Node 20 (about a minute)')
try {
  execSync('prebuild-install || (node-gyp rebuild --release -j max && node-gyp clean)', { cwd: dir, stdio: 'pipe', maxBuffer: 64 * 1024 * 1024 })
} catch (err) {
  const out = String(err.stdout || '') + String(err.stderr || '')
  console.error(out.split('\n').slice(-30).join('\n'))
  console.error('vms-node: isolated-vm 5.0.4 did not build; on Node 20 it needs g++, make and python3 (or use Node 22 or later)')
  process.exit(1)
}
