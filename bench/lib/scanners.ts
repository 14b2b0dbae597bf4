import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from '@postern/testkit'
import { findProgram } from './install.js'
import { runCommand, startService, tcpAccepts, type Service } from './services.js'

/**
 * Private rspamd and clamd instances for benches that measure content scanning: their own
 * configuration, databases and sockets on ephemeral ports under `dir`, stopped by the bench.
 * The system's own services, if any, are not touched. As root the daemons drop privileges to
 * their Debian users (clamav, _rspamd): every parent of `dir` must be traversable by them.
 */

export interface ScannerService {
  service: Service
  port: number
  stop(): Promise<void>
}

/** The EICAR test file (68 bytes), the signature every antivirus knows. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'

/** The uid and gid of a system user, or undefined when it does not exist. */
async function systemUser(name: string): Promise<{ uid: number; gid: number } | undefined> {
  const uid = await runCommand('id', ['-u', name])
  const gid = await runCommand('id', ['-g', name])
  if (uid.code !== 0 || gid.code !== 0) return undefined
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) }
}

/** Directories a daemon that drops privileges must own. */
async function ownedBy(user: string | undefined, dirs: string[]): Promise<string | undefined> {
  for (const dir of dirs) mkdirSync(dir, { recursive: true })
  if (process.getuid?.() !== 0 || !user) return undefined
  const ids = await systemUser(user)
  if (!ids) return undefined
  for (const dir of dirs) chownSync(dir, ids.uid, ids.gid)
  return user
}

/**
 * clamd (Debian clamav-daemon) with a signature database the bench writes: EICAR by MD5, no
 * download. Listens on 127.0.0.1 (TCP, for INSTREAM).
 */
export async function startClamd(dir: string): Promise<ScannerService> {
  const clamd = findProgram('clamd')
  if (!clamd) throw new Error('clamd is missing: apt-get install -y clamav-daemon')
  mkdirSync(dir, { recursive: true })
  chmodSync(dir, 0o755)
  const db = join(dir, 'db')
  const user = await ownedBy('clamav', [db])
  const { createHash } = await import('node:crypto')
  const md5 = createHash('md5').update(EICAR).digest('hex')
  writeFileSync(join(db, 'bench.hdb'), `${md5}:${EICAR.length}:Eicar-Test-Signature\n`)
  const port = await freePort()
  const config = join(dir, 'clamd.conf')
  writeFileSync(
    config,
    [
      'Foreground yes',
      `DatabaseDirectory ${db}`,
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      `PidFile ${join(db, 'clamd.pid')}`,
      ...(user ? [`User ${user}`] : []),
      '',
    ].join('\n'),
  )
  const service = await startService({
    name: 'clamd',
    command: clamd,
    args: ['-c', config],
    logFile: join(dir, 'clamd.log'),
    ready: () => tcpAccepts(port),
    readyTimeoutMs: 120_000,
  })
  return { service, port, stop: () => service.stop(10_000) }
}

/**
 * rspamd (Debian rspamd) with the distribution's configuration and local overrides: the normal
 * worker (HTTP /checkv2) on an ephemeral port, the controller and proxy on others, console
 * logging at warning level. It does what it does in service, DNS checks included; loading its
 * rules takes some seconds.
 */
export async function startRspamd(dir: string): Promise<ScannerService & { url: string }> {
  const rspamd = findProgram('rspamd')
  if (!rspamd) throw new Error('rspamd is missing: apt-get install -y rspamd')
  mkdirSync(dir, { recursive: true })
  chmodSync(dir, 0o755)
  const local = join(dir, 'local')
  const overrides = join(local, 'override.d')
  mkdirSync(overrides, { recursive: true })
  const [dbDir, runDir, logDir] = ['db', 'run', 'log'].map((name) => join(dir, name)) as [
    string,
    string,
    string,
  ]
  const user = await ownedBy('_rspamd', [dbDir, runDir, logDir])
  const [port, controllerPort, proxyPort] = [await freePort(), await freePort(), await freePort()]
  writeFileSync(
    join(overrides, 'worker-normal.inc'),
    `bind_socket = "127.0.0.1:${port}";\ncount = 1;\n`,
  )
  writeFileSync(
    join(overrides, 'worker-controller.inc'),
    `bind_socket = "127.0.0.1:${controllerPort}";\n`,
  )
  writeFileSync(join(overrides, 'worker-proxy.inc'), `bind_socket = "127.0.0.1:${proxyPort}";\n`)
  writeFileSync(join(overrides, 'logging.inc'), 'type = "console";\nlevel = "warning";\n')
  const service = await startService({
    name: 'rspamd',
    command: rspamd,
    args: [
      '-f',
      ...(user ? ['-u', user, '-g', user] : []),
      '-c',
      '/etc/rspamd/rspamd.conf',
      `--var=LOCAL_CONFDIR=${local}`,
      `--var=DBDIR=${dbDir}`,
      `--var=RUNDIR=${runDir}`,
      `--var=LOGDIR=${logDir}`,
    ],
    logFile: join(dir, 'rspamd.log'),
    ready: () => tcpAccepts(port),
    readyTimeoutMs: 180_000,
  })
  return { service, port, url: `http://127.0.0.1:${port}`, stop: () => service.stop(10_000) }
}
