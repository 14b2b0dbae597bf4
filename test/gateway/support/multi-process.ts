import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { startProcess, waitFor, type RunningProcess } from '@postern/testkit'

const POSTERN = new URL('../../../bin/postern.js', import.meta.url).pathname

/**
 * A `postern gateway` started as users start it, for the tests of `smtpProcesses` > 1: the
 * primary's pid, its SMTP and HTTP addresses, the API with the CLI's local credential, and the
 * pids of its SMTP processes as `/healthz` reports them.
 */
export interface MultiProcessGateway {
  proc: RunningProcess
  smtpPort: number
  httpUrl: string
  /** GET/POST/DELETE on the API with the local CLI credential; resolves with status and JSON. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }>
  health(): Promise<{ status: number; checks: Record<string, string> }>
  /** Slot → pid of each SMTP process `/healthz` reports running. */
  smtpPids(): Promise<Map<number, number>>
}

export async function startMultiProcessGateway(
  configFile: string,
  dataDir: string,
  processes: number,
): Promise<MultiProcessGateway> {
  const proc = startProcess(process.execPath, [POSTERN, 'gateway', '--config', configFile])
  const [, port, http] = await proc.waitForLine(
    new RegExp(
      `ready: smtp inbound=127\\.0\\.0\\.1:(\\d+).*http=([\\d.:]+) \\(${processes} SMTP process(es)?\\)`,
    ),
    120_000,
  )
  const httpUrl = `http://${http as string}`
  const api = async (method: string, path: string, body?: unknown) => {
    const token = readFileSync(join(dataDir, 'cli-token'), 'utf8').trim()
    const res = await fetch(`${httpUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined }
  }
  const health = async () => {
    const res = await fetch(`${httpUrl}/healthz`)
    const json = (await res.json()) as { checks: Record<string, string> }
    return { status: res.status, checks: json.checks }
  }
  return {
    proc,
    smtpPort: Number(port),
    httpUrl,
    api,
    health,
    async smtpPids() {
      const pids = new Map<number, number>()
      for (const [check, value] of Object.entries((await health()).checks)) {
        const slot = /^smtp-(\d+)$/.exec(check)?.[1]
        const pid = /^ok \(pid (\d+)/.exec(value)?.[1]
        if (slot && pid) pids.set(Number(slot), Number(pid))
      }
      return pids
    },
  }
}

/** Waits until every one of `processes` SMTP processes is reported running. */
export async function waitForSmtpProcesses(
  gateway: MultiProcessGateway,
  processes: number,
  what = `${processes} SMTP processes running`,
): Promise<Map<number, number>> {
  let pids = new Map<number, number>()
  await waitFor(
    async () => {
      pids = await gateway.smtpPids()
      return pids.size === processes
    },
    { timeoutMs: 120_000, what },
  )
  return pids
}

export function processAlive(pid: number): boolean {
  return (
    existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
  )
}
