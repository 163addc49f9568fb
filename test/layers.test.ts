// The layer check (`npm run layers`, run by `npm test`) fails on a planted
// cycle: between two folders that import each other through different
// files (no file cycle), between two files, and through a utility file
// directly in src/ that imports a folder. And it passes on the project.

import test from 'brittle'
import fs from 'node:fs'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { ROOT, tmpdir } from './helpers.js'

const CRUISER = path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs')
const SOURCES = '{src,protocol,tui}/**/*.{ts,tsx}'

/** Runs dependency-cruiser in `cwd` with one of the project's configs. */
function cruise (cwd: string, config: string): { status: number | null, out: string } {
  const r = spawnSync(process.execPath, [...process.execArgv, CRUISER, '--config', path.join(ROOT, config), '--output-type', 'err', SOURCES], { cwd, encoding: 'utf8' })
  return { status: r.status, out: r.stdout + r.stderr }
}

/** Writes `files` (path -> source) under a fresh folder. */
function tree (dir: string, files: Record<string, string>): string {
  for (const [p, src] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true })
    fs.writeFileSync(path.join(dir, p), src)
  }
  return dir
}

test('layers: a folder cycle through different files fails the folder check', (t) => {
  const dir = tree(tmpdir(t), {
    'src/a/x.ts': "import { y } from '../b/y.js'\nexport const x = y\n",
    'src/a/z.ts': 'export const z = 1\n',
    'src/b/y.ts': "import type { Z } from '../a/types.js'\nexport const y: Z = 1\n",
    'src/a/types.ts': 'export type Z = number\n'
  })
  const files = cruise(dir, '.dependency-cruiser.cjs')
  t.is(files.status, 0, 'no file cycle: ' + files.out)
  const folders = cruise(dir, '.dependency-cruiser-folders.cjs')
  t.not(folders.status, 0, 'the folder check fails')
  t.ok(/no-folder-cycle/.test(folders.out) && /src\/a/.test(folders.out) && /src\/b/.test(folders.out), 'and names the two folders (a type-only import counts)')
})

test('layers: a file cycle and a utility importing a folder fail the file check', (t) => {
  const dir = tree(tmpdir(t), {
    'src/a/x.ts': "import { y } from './y.js'\nexport const x = 1\nexport const w = y\n",
    'src/a/y.ts': "import { x } from './x.js'\nexport const y = x\n",
    'src/util.ts': "import { x } from './a/x.js'\nexport const u = x\n"
  })
  const r = cruise(dir, '.dependency-cruiser.cjs')
  t.not(r.status, 0, 'the file check fails')
  t.ok(/no-file-cycle/.test(r.out), 'on the file cycle')
  t.ok(/utility-imports-no-folder/.test(r.out), 'and on the utility above a folder')
})

test('layers: the project has no folder or file cycle', (t) => {
  for (const config of ['.dependency-cruiser.cjs', '.dependency-cruiser-folders.cjs']) {
    const r = cruise(ROOT, config)
    t.is(r.status, 0, config + ': ' + r.out.trim().split('\n').slice(-12).join('\n'))
  }
})
