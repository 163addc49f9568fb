#!/usr/bin/env -S node --no-node-snapshot
// isolated-vm needs --no-node-snapshot on Node >= 20 (see its README); the shebang passes it.
import '../dist/src/cli.js'
