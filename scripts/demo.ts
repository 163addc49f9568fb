/**
 * `npm start`: the whole main job offline, in one process. Starts an
 * embedded local DHT (3 nodes on loopback), hosts the seeds' RSVP contract,
 * makes signed calls from two identities over real Hyperswarm connections,
 * reads the state back with a stock Hyperdrive that knows only the files key,
 * and prints the call log.
 */

import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import createTestnet from 'hyperdht/testnet.js'
import Corestore from 'corestore'
import Hyperdrive from 'hyperdrive'
import { HostNode } from '../src/host/host-node.js'
import { VmsClient } from '../src/client.js'
import { createSandbox, runtimeFingerprint } from '../src/runtime/sandbox.js'
import { createSwarm, formatBootstrap } from '../src/net/swarm.js'
import { keyPair } from '../src/crypto.js'
import { formatKey } from '../src/keys.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const storage = path.resolve('.vms-node', 'demo')
const say = (s: string): void => { process.stdout.write(s + '\n') }

async function main (): Promise<void> {
  fs.rmSync(storage, { recursive: true, force: true })
  const testnet = await createTestnet(3)
  const bootstrap = testnet.bootstrap
  say(`Local DHT: ${formatBootstrap(bootstrap)} (3 nodes on loopback, no internet needed)`)

  const node = new HostNode({ storage: path.join(storage, 'host'), sandboxFactory: createSandbox, runtime: runtimeFingerprint(), bootstrap })
  const source = fs.readFileSync(path.join(root, 'examples', 'rsvp.js'), 'utf8')
  const host = await node.deploy(source, { name: 'rsvp' })
  const info = host.info()
  say('Hosting examples/rsvp.js')
  say(`  contract: ${formatKey(host.key)}`)
  say(`  files:    ${formatKey(info.files)}`)
  say(`  methods:  ${info.methods.join(', ')}  (init ran at deploy, as the operator ${node.identity.id.slice(0, 8)})`)

  const alice = keyPair()
  const bob = keyPair()
  const ca = await VmsClient.connect(host.key, { bootstrap, identity: alice })
  const cb = await VmsClient.connect(host.key, { bootstrap, identity: bob })
  say('\nTwo callers found the host by its key on the DHT:')
  say(`  alice = ${formatKey(alice.publicKey)}`)
  say(`  bob   = ${formatKey(bob.publicKey)}`)

  await ca.RSVP('alice', true)
  say(`  alice: RSVP('alice', true)                       -> receipt: log index ${ca.lastReceipt?.index}`)
  await cb.RSVP('bob', false, 'Washing my hair, sorry!')
  say(`  bob:   RSVP('bob', false, 'Washing my hair, sorry!') -> receipt: log index ${cb.lastReceipt?.index}`)
  await ca.RSVP('alice', false, 'Got the flu')
  say(`  alice: RSVP('alice', false, 'Got the flu')        -> receipt: log index ${ca.lastReceipt?.index}`)
  const err = await cb.call('RSVPP', 'typo').then(() => null, (e: Error) => e)
  say(`  bob:   RSVPP('typo')                             -> rejected, not logged: ${err?.message}`)

  // A reader that knows only the files key reads the state with a stock Hyperdrive.
  const readerStore = new Corestore(path.join(storage, 'reader'))
  const readerSwarm = createSwarm({ bootstrap })
  readerSwarm.on('connection', (conn: unknown) => readerStore.replicate(conn))
  const drive = new Hyperdrive(readerStore, info.files)
  await drive.ready()
  readerSwarm.join(drive.discoveryKey as Buffer, { server: false, client: true })
  const done = drive.findingPeers()
  readerSwarm.flush().then(done, done)
  await drive.update({ wait: true })
  say('\nState, read by a stock Hyperdrive opened with the files key:')
  for await (const name of drive.readdir('/rsvps')) {
    say(`  /rsvps/${name.slice(0, 12)}...json  ${(await drive.get('/rsvps/' + name))?.toString()}`)
  }

  say('\nCall log (a signed Hypercore; block 0 is the genesis):')
  for (let i = 0; i < host.log.length; i++) {
    const b = await host.log.block(i)
    if (b.type === 'genesis') say(`  #${i} genesis  contract ${b.genesis.name}, source hash ${Buffer.from(b.genesis.sourceHash).toString('hex').slice(0, 16)}..., ${b.genesis.runtime}`)
    else say(`  #${i} ${b.call.request.method.padEnd(8)} by ${formatKey(b.call.request.caller).slice(0, 8)}  args ${b.call.request.args}  -> ${b.call.outcome.ok ? 'ok' : b.call.outcome.error?.message}  files v${b.call.filesAfter}`)
  }
  say(`\nStorage: ${storage} (host Corestore, reader Corestore)`)
  say('Try it across processes: npx vms-node devnet, then npx vms-node host examples/rsvp.js --bootstrap 127.0.0.1:49737')

  await drive.close()
  await readerSwarm.destroy()
  await readerStore.close()
  await ca.close()
  await cb.close()
  await node.close()
  await testnet.destroy()
}

main().catch((err: Error) => {
  process.stderr.write(`demo failed: ${err.message}\n`)
  process.exit(1)
})
