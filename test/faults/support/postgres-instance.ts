import { execFile } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort, tempDir } from '@postern/testkit'

const run = promisify(execFile)

/**
 * A PostgreSQL server of the suite's own (initdb + pg_ctl from the Debian packages, its own
 * port and directory), so that it can be stopped and started mid-load without touching the
 * machine's shared server. PostgreSQL refuses to run as root: under root it runs as the
 * `postgres` system user.
 */
export interface PostgresInstance {
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>
  /** Stops at once (`-m immediate`: no shutdown checkpoint, as a crash would). */
  crash(): Promise<void>
  start(): Promise<void>
  remove(): Promise<void>
}

function pgBin(program: string): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : []
  for (const v of versions) {
    const candidate = join(root, v, 'bin', program)
    if (existsSync(candidate)) return candidate
  }
  throw new Error(
    `This suite needs PostgreSQL's ${program} (/usr/lib/postgresql/*/bin). Install it with: apt-get install -y postgresql`,
  )
}

export async function startPostgresInstance(): Promise<PostgresInstance> {
  const dir = tempDir('postern-pg-')
  const data = join(dir.path, 'data')
  const socketDir = join(dir.path, 'socket')
  mkdirSync(socketDir)
  const port = await freePort()
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const { stdout: gid } = await run('id', ['-g', 'postgres'])
    for (const path of [dir.path, socketDir]) chownSync(path, Number(stdout), Number(gid))
    chmodSync(dir.path, 0o755)
  }
  const as = async (program: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', pgBin(program), ...args])
      : run(pgBin(program), args)
  await as('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'])
  const start = async () => {
    await as('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir.path, 'log'),
      '-w',
      '-o',
      `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ])
  }
  await start()
  return {
    createDatabase: async (name) => {
      await as('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', name])
      return `postgres://postgres@127.0.0.1:${port}/${name}`
    },
    crash: async () => {
      await as('pg_ctl', ['-D', data, '-m', 'immediate', 'stop'])
    },
    start,
    remove: async () => {
      await as('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined)
      dir.remove()
    },
  }
}
