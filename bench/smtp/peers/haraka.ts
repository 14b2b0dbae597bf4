import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '@postern/testkit'
import { runCommand, startService, tcpAccepts } from '../../lib/index.js'
import type { Availability, RelayInstance, RelayStartContext } from './relay.js'

/**
 * Haraka from npm, installed into a cache folder of its own (bench/.peers/haraka, gitignored,
 * with its own package.json and lockfile), never into the workspace. Haraka 3.3.x is the line
 * that runs on Node 20 (its engines field says >= 20); the version is pinned so that figures
 * stay comparable across runs.
 */
export const HARAKA_VERSION = '3.3.4'

const benchDir = fileURLToPath(new URL('../..', import.meta.url))
export const HARAKA_CACHE = join(benchDir, '.peers', 'haraka')
const HARAKA_PACKAGE = join(HARAKA_CACHE, 'node_modules', 'Haraka')
const HARAKA_BIN = join(HARAKA_PACKAGE, 'bin', 'haraka')
const NODELAY_SHIM = fileURLToPath(new URL('./haraka-nodelay.cjs', import.meta.url))

function installedVersion(): string | undefined {
  try {
    return (
      JSON.parse(readFileSync(join(HARAKA_PACKAGE, 'package.json'), 'utf8')) as { version: string }
    ).version
  } catch {
    return undefined
  }
}

/** Installs the pinned Haraka into the cache when it is missing or another version. */
export async function ensureHaraka(
  log: (line: string) => void,
  install: boolean,
): Promise<Availability> {
  if (installedVersion() === HARAKA_VERSION) return { available: true, version: HARAKA_VERSION }
  if (!install)
    return {
      available: false,
      reason: `Haraka ${HARAKA_VERSION} is not installed in ${HARAKA_CACHE} and --no-install was given`,
    }
  log(`Installing Haraka ${HARAKA_VERSION} into ${HARAKA_CACHE} (npm, outside the workspace)…`)
  mkdirSync(HARAKA_CACHE, { recursive: true })
  writeFileSync(
    join(HARAKA_CACHE, 'package.json'),
    `${JSON.stringify(
      {
        name: 'postern-bench-haraka',
        private: true,
        description: 'Haraka for npm run bench:smtp: a cache outside the workspace, safe to delete',
        dependencies: { Haraka: HARAKA_VERSION },
      },
      null,
      2,
    )}\n`,
  )
  // --ignore-scripts: the only install script is an optional syslog addon the bench does not use.
  const result = await runCommand(
    'npm',
    ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--workspaces=false'],
    { cwd: HARAKA_CACHE, timeoutMs: 10 * 60_000 },
  )
  if (result.code !== 0 || installedVersion() !== HARAKA_VERSION)
    return {
      available: false,
      reason: `npm install Haraka@${HARAKA_VERSION} failed: ${result.stderr.trim().slice(-500)}`,
    }
  return { available: true, version: HARAKA_VERSION }
}

/** Haraka's default configuration (haraka -i), made once per bench run and copied per start. */
export async function harakaTemplate(dir: string): Promise<string> {
  const template = join(dir, 'haraka-template')
  if (existsSync(join(template, 'config'))) return template
  const result = await runCommand(process.execPath, [HARAKA_BIN, '-i', template])
  if (result.code !== 0 || !existsSync(join(template, 'config')))
    throw new Error(`haraka -i failed: ${result.stderr.trim()}`)
  return template
}

/**
 * Haraka with the smtp_forward queue plugin: accepts mail for example.org (rcpt_to.in_host_list)
 * and forwards it to smtp-sink without writing it to disk. Defaults otherwise, except that
 * mail_from.is_resolvable is left out (it resolves sender domains; this machine has no DNS).
 */
export async function startHaraka(
  context: RelayStartContext,
  template: string,
  options: { noDelay: boolean },
): Promise<RelayInstance> {
  const port = await freePort()
  const home = join(context.dir, 'haraka')
  cpSync(template, home, { recursive: true })
  const config = join(home, 'config')
  writeFileSync(join(config, 'plugins'), 'rcpt_to.in_host_list\nqueue/smtp_forward\n')
  writeFileSync(join(config, 'host_list'), 'example.org\n')
  writeFileSync(join(config, 'me'), 'relay.bench.example\n')
  writeFileSync(join(config, 'smtp.ini'), `listen=127.0.0.1:${port}\nforce_shutdown_timeout=5\n`)
  writeFileSync(join(config, 'smtp_forward.ini'), `host=127.0.0.1\nport=${context.sinkPort}\n`)
  const preload = options.noDelay ? ['--require', NODELAY_SHIM] : []
  const service = await startService({
    name: options.noDelay ? 'haraka (TCP_NODELAY)' : 'haraka',
    command: process.execPath,
    args: [...preload, HARAKA_BIN, '-c', home],
    cwd: home,
    logFile: join(context.dir, 'haraka.log'),
    ready: () => tcpAccepts(port),
    readyTimeoutMs: 60_000,
  })
  return { port, service, stop: () => service.stop(10_000) }
}
