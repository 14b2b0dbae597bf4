import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startProcess, type RunningProcess } from '@postern/testkit'
import { writeConfigFile } from '../../gateway/support/gateway.js'

const POSTERN = new URL('../../../bin/postern.js', import.meta.url).pathname

/** A `postern gateway` child process: crashable (kill -9) and measurable (RSS). */
export interface GatewayProcess {
  proc: RunningProcess
  smtpPort: number
  httpUrl: string
  /** Resident set size of the process now, from /proc (bytes). */
  rss(): number
  metrics(): Promise<string>
}

/** The config file of a child gateway (JSON is YAML); every start of it reuses its dataDir. */
export function gatewayConfigFile(dir: string, config: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'gateway.yaml')
  writeConfigFile(file, {
    dataDir: join(dir, 'data'),
    hostname: 'gw.test',
    http: '127.0.0.1:0',
    log: { level: 'warn' },
    rdns: { forTracking: false },
    api: { publicMetrics: true },
    ...config,
  })
  return file
}

/**
 * The config of a gateway that accepts mail for `corp.example` on one inbound listener and
 * relays everything to the downstream MTA on `downstreamPort` (the fault suites' load shape).
 */
export function relayTo(downstreamPort: number): Record<string, unknown> {
  return {
    listeners: [
      {
        name: 'inbound',
        smtp: '127.0.0.1:0',
        rat: [{ recipient: 'corp.example', action: 'ACCEPT' }],
      },
    ],
    smtpRoutes: [{ domain: '*', to: [`127.0.0.1:${downstreamPort}`] }],
  }
}

export async function startGatewayProcess(configFile: string): Promise<GatewayProcess> {
  const proc = startProcess(process.execPath, [POSTERN, 'gateway', '--config', configFile])
  const [, port, http] = await proc.waitForLine(
    /ready: smtp inbound=127\.0\.0\.1:(\d+).*http=([\d.:]+)/,
    60_000,
  )
  const httpUrl = `http://${http as string}`
  return {
    proc,
    smtpPort: Number(port),
    httpUrl,
    rss: () => rssOf(proc.child.pid as number),
    metrics: async () => (await fetch(`${httpUrl}/metrics`)).text(),
  }
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]
  if (!kb) throw new Error(`no VmRSS for process ${pid}`)
  return Number(kb) * 1024
}

/** The value of one Prometheus counter/gauge line selected by `labels` (0 when absent). */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  let total = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== '{' && rest[0] !== ' ') continue
    if (!Object.entries(labels).every(([k, v]) => rest.includes(`${k}="${v}"`))) continue
    total += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return total
}
