import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCommand, startService, tailOfFile } from '../../lib/index.js'
import {
  posternConfig,
  renderConfigFile,
  type PosternVariant,
  type ScannerEndpoints,
  type SmtpProcessesSetting,
} from '../postern-config.js'
import type { Availability, RelayInstance, RelayStartContext } from './relay.js'

/**
 * The gateway under test, run exactly as users run it: `postern gateway --config FILE` from the
 * built code (dist/), with a configuration file the bench writes per row.
 */

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const POSTERN_BIN = join(REPO_ROOT, 'bin', 'postern.js')
/** EX_CONFIG (sysexits.h), what every postern command exits with on an invalid configuration. */
const EXIT_CONFIG = 78

/** Whether this checkout's `postern gateway` can run from a config file at all. */
export async function posternAvailability(version: string): Promise<Availability> {
  if (!existsSync(POSTERN_BIN)) return { available: false, reason: `${POSTERN_BIN} is missing` }
  const help = await runCommand(process.execPath, [POSTERN_BIN, 'gateway', '--help'], {
    cwd: REPO_ROOT,
  })
  if (help.code !== 0)
    return {
      available: false,
      reason: `postern gateway --help failed (run npm run build?): ${(help.stderr || help.stdout).trim().slice(0, 300)}`,
    }
  if (!/--config\b/.test(help.stdout))
    return {
      available: false,
      reason: `this commit's "postern gateway" has no --config option: the gateway core (issue 2) is not merged yet`,
    }
  return { available: true, version }
}

export interface PosternStartOptions {
  variant: PosternVariant
  scanners?: ScannerEndpoints
  /** The gateway's `smtpProcesses` (default 1). */
  smtpProcesses?: SmtpProcessesSetting
  /** A node of a gateway cluster: the shared PostgreSQL database and this node's number. */
  cluster?: { database: string; nodeNumber: number }
}

/** Raised when the gateway refuses the bench's configuration: the row is then "not available". */
export class ConfigRejected extends Error {}

/**
 * What the gateway prints on stderr once every listener is bound (apps/gateway/src/main.ts):
 * "postern gateway ready: smtp bench=127.0.0.1:34567, http=127.0.0.1:34568".
 */
const READY_LINE = /^postern gateway ready: .*\bsmtp bench=(?:\[[^\]]+\]|[^:,\s]+):(\d+)/m

export async function startPostern(
  context: RelayStartContext,
  options: PosternStartOptions,
): Promise<RelayInstance> {
  const dataDir = join(context.dir, 'postern-data')
  mkdirSync(dataDir, { recursive: true })
  const configFile = join(context.dir, 'gateway.yaml')
  writeFileSync(
    configFile,
    renderConfigFile({
      ...posternConfig(options.variant, {
        dataDir,
        // Port 0: the gateway binds free ports and prints them in its ready line.
        smtpPort: 0,
        httpPort: 0,
        sinkPort: context.sinkPort,
        smtpProcesses: options.smtpProcesses ?? 1,
        ...(options.scanners ? { scanners: options.scanners } : {}),
      }),
      ...options.cluster,
    }),
  )
  // Only the file configures the gateway: POSTERN_* overrides from the caller's shell are dropped.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('POSTERN_')),
  )
  const logFile = join(context.dir, 'postern.log')
  let port: number | undefined
  try {
    const service = await startService({
      name: `postern (${options.variant})`,
      command: process.execPath,
      args: [POSTERN_BIN, 'gateway', '--config', configFile],
      cwd: REPO_ROOT,
      env,
      logFile,
      ready: () => {
        const match = READY_LINE.exec(readFileSync(logFile, 'utf8'))
        if (match) port = Number(match[1])
        return port !== undefined
      },
      readyTimeoutMs: 60_000,
    })
    return { port: port as number, service, stop: () => service.stop(15_000) }
  } catch (err) {
    if (/exit code 78\b/.test((err as Error).message))
      throw new ConfigRejected(
        `the gateway rejected the bench's ${options.variant} configuration (exit code ${EXIT_CONFIG}): ${validationIssues(tailOfFile(logFile, 2000))}`,
      )
    throw err
  }
}

/** The "  - path: message" lines of CORE_ERR_CONFIG_INVALID, or the raw output without them. */
export function validationIssues(output: string): string {
  const issues = [...output.matchAll(/^\s+- (.+)$/gm)].map((m) => (m[1] as string).trim())
  return issues.length > 0 ? issues.join('; ') : output.trim().replace(/\s+/g, ' ').slice(0, 400)
}
