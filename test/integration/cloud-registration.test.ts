import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, BACKENDS, type TestDatabase } from '@postern/store/testing'
import {
  freePort,
  requireProgram,
  startProcess,
  tempDir,
  waitFor,
  type RunningProcess,
} from '@postern/testkit'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const POSTERN = join(ROOT, 'bin/postern.js')
const AGENT = join(ROOT, 'test/integration/cloud-agent.mjs')
const PTY = join(ROOT, 'test/integration/pty-driver.py')

// Replies of the hub API and `--json` CLI output, read loosely by the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

interface CliResult {
  code: number
  stdout: string
  stderr: string
}

async function cli(args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [POSTERN, ...args], {
      cwd: ROOT,
      timeout: 60_000,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string }
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }
  }
}

async function ok(args: string[]): Promise<string> {
  const result = await cli(args)
  if (result.code !== 0)
    throw new Error(
      `postern ${args.join(' ')} failed (${result.code}):\n${result.stderr}${result.stdout}`,
    )
  return result.stdout
}

/**
 * The seed's integration procedure (table 1, steps 1–7) between real processes: a hub and two
 * gateways' cloud connectors, each its own process, registered through the CLI (one of them
 * through the interactive menu in a pseudo-terminal), surviving a hub restart, sending usage
 * telemetry, enforcing the region and cluster rules, and refusing reused or expired tokens and
 * revoked credentials.
 */
describe.each(BACKENDS)('hub and gateways as processes on %s', (dialect) => {
  const python = requireProgram('python3', 'python3')
  const dir = tempDir('postern-e2e-')
  const databases: TestDatabase[] = []
  const processes: RunningProcess[] = []
  let hub: RunningProcess
  let hubUrl: string
  let hubConfig: string
  let accessToken: string
  const gw = (n: number) => join(dir.path, `gw${n}.yaml`)

  async function database(): Promise<string> {
    const db = await createTestDatabase(dialect)
    databases.push(db)
    return db.configValue
  }

  async function startHub(): Promise<void> {
    hub = startProcess(process.execPath, [POSTERN, 'hub', '--config', hubConfig], { cwd: ROOT })
    processes.push(hub)
    await hub.waitForLine(/HUB_LISTENING/, 60_000)
  }

  async function api(method: string, path: string): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${hubUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${accessToken}` },
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }

  async function devices(): Promise<Json[]> {
    return (await api('GET', '/api/v1/devices')).body.items
  }

  async function status(n: number): Promise<Json> {
    return JSON.parse(await ok(['gateway', 'cloudserviceconfig', 'status', '--json', '-c', gw(n)]))
  }

  beforeAll(async () => {
    const port = await freePort()
    hubUrl = `http://127.0.0.1:${port}`
    hubConfig = join(dir.path, 'hub.yaml')
    writeFileSync(
      hubConfig,
      [
        `dataDir: ${join(dir.path, 'hub')}`,
        `database: ${await database()}`,
        `listen: 127.0.0.1:${port}`,
        `publicUrl: ${hubUrl}`,
        'region: nam',
        'tunnel:',
        '  heartbeatSeconds: 1',
        'log:',
        '  level: info',
      ].join('\n'),
    )
    for (const n of [1, 2, 3]) {
      writeFileSync(
        gw(n),
        [
          `dataDir: ${join(dir.path, `gw${n}`)}`,
          `database: ${await database()}`,
          'cloud:',
          `  machineName: gw${n}`,
          '  servers:',
          `    nam: ${hubUrl}`,
          '    eu: http://127.0.0.1:9',
          '  settingsPollSeconds: 0.2',
          '  heartbeatSeconds: 1',
          '  reconnectMinMs: 100',
          '  reconnectMaxSeconds: 1',
          '  requestTimeoutSeconds: 5',
        ].join('\n'),
      )
    }
    await ok([
      'hub',
      'user',
      'create',
      '--config',
      hubConfig,
      '--email',
      'admin@acme.example',
      '--create-org',
      'Acme',
      '--json',
    ])
    const client = JSON.parse(
      await ok([
        'hub',
        'api-client',
        'create',
        '--config',
        hubConfig,
        '--name',
        'e2e',
        '--scopes',
        'devices audit:read profile',
      ]),
    )
    await startHub()
    const tokenRes = await fetch(`${hubUrl}/iroh/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    })
    accessToken = ((await tokenRes.json()) as { access_token: string }).access_token
    for (const n of [1, 2]) {
      const agent = startProcess(process.execPath, [AGENT, gw(n)], { cwd: ROOT })
      processes.push(agent)
      await agent.waitForLine(/CLOUD_AGENT_READY/, 60_000)
    }
  }, 240_000)

  afterAll(async () => {
    for (const p of processes.reverse()) await p.stop()
    for (const db of databases) await db.drop()
    dir.remove()
  })

  it('registers one gateway with flags and one through the interactive menu, and lists both connected', async () => {
    const token1 = (await ok(['hub', 'token', 'create', '--config', hubConfig])).trim()
    const token2 = (await ok(['hub', 'token', 'create', '--config', hubConfig])).trim()
    expect(token1).toMatch(/^prt_/)

    await ok(['gateway', 'cloudserviceconfig', 'enable', '-c', gw(1)])
    await ok(['gateway', 'cloudserviceconfig', 'settrs', '--server', 'nam', '-c', gw(1)])
    await ok(['gateway', 'cloudserviceconfig', 'register', '--token', token1, '-c', gw(1)])

    const steps = [
      ['[]>', 'ENABLE'],
      ['[]>', 'SETTRS'],
      ['Choose the server', 'nam'],
      ['[]>', 'REGISTER'],
      ['registration token:', token2],
      ['Registered.', ''],
    ]
    const { stdout } = await run(
      python,
      [
        PTY,
        JSON.stringify(steps),
        '--',
        process.execPath,
        POSTERN,
        'gateway',
        'cloudserviceconfig',
        '-c',
        gw(2),
      ],
      {
        cwd: ROOT,
        timeout: 120_000,
      },
    )
    expect(stdout).toContain('Choose the operation you want to perform:')
    expect(stdout).toContain('Registered.')

    const list = await waitFor(
      async () => {
        const items = await devices()
        return items.length === 2 && items.every((d) => d.status === 'connected') ? items : false
      },
      { timeoutMs: 30_000, what: 'both gateways connected' },
    )
    expect(list.map((d) => d.name).sort()).toEqual(expect.arrayContaining([expect.any(String)]))
    expect(
      list.every(
        (d) => d.region === 'nam' && d.deployment === 'standalone' && d.version === '0.1.0',
      ),
    ).toBe(true)
    expect((await status(1)).state).toBe('connected')
    expect((await status(2)).state).toBe('connected')
  })

  it('survives a hub restart: both gateways reconnect', async () => {
    await hub.kill9()
    await waitFor(async () => (await status(1)).state === 'registered', {
      timeoutMs: 30_000,
      what: 'gw1 to notice the hub is gone',
    })
    await startHub()
    await waitFor(
      async () => {
        const items = await devices()
        return items.length === 2 && items.every((d) => d.status === 'connected')
      },
      { timeoutMs: 30_000, what: 'both gateways reconnected' },
    )
  })

  it('refuses module calls while Threat Response is off and answers them once it is on', async () => {
    const id = (await status(1)).registration.deviceId
    const refused = await api('POST', `/api/v1/devices/${id}/health`)
    expect(refused.body.error.code).toBe('GW_CLOUD_ERR_THREAT_RESPONSE_DISABLED')
    expect((await api('GET', `/api/v1/devices/${id}`)).body.threatResponse).toBe('disabled')
    await ok(['gateway', 'cloudserviceconfig', 'securex', 'enable', '-c', gw(1)])
    await waitFor(
      async () => (await api('GET', `/api/v1/devices/${id}`)).body.threatResponse === 'enabled',
      { timeoutMs: 15_000 },
    )
    const health = await api('POST', `/api/v1/devices/${id}/health`)
    expect(health.body.reply).toEqual({ data: { status: 'ok', version: '0.1.0' } })
  })

  it('sends usage telemetry once enabled, exactly as `csn show` prints it', async () => {
    const id = (await status(1)).registration.deviceId
    await ok(['gateway', 'cloudserviceconfig', 'csn', 'enable', '-c', gw(1)])
    const shown = JSON.parse(
      await ok(['gateway', 'cloudserviceconfig', 'csn', 'show', '-c', gw(1)]),
    )
    const items = await waitFor(
      async () => {
        const res = await api('GET', `/api/v1/devices/${id}/telemetry`)
        return res.body.items.length > 0 ? res.body.items : false
      },
      { timeoutMs: 30_000, what: 'telemetry on the hub' },
    )
    const { generatedAt: _a, ...sent } = items[0].payload
    const { generatedAt: _b, ...expected } = shown
    expect(sent).toEqual(expected)
    expect(sent).toMatchObject({
      deployment: 'standalone',
      model: 'postern-gateway',
      userAccountID: expect.any(String),
      uid: (await status(1)).uid,
    })
    expect(sent.features.find((f: { name: string }) => f.name === 'Usage Telemetry')).toMatchObject(
      { enabled: true, status: 'compliance' },
    )
  })

  it('refuses a region change and a cluster join while registered standalone', async () => {
    const region = await cli([
      'gateway',
      'cloudserviceconfig',
      'settrs',
      '--server',
      'eu',
      '-c',
      gw(1),
    ])
    expect(region.code).toBe(1)
    expect(region.stderr).toContain('GW_CLOUD_ERR_REGION_CHANGE_REGISTERED')
    expect(region.stderr).toContain('next: Deregister first')
    const join = await cli(['gateway', 'cluster', 'join', '--name', 'c1', '-c', gw(1)])
    expect(join.code).toBe(1)
    expect(join.stderr).toContain('GW_CLOUD_ERR_CLUSTER_JOIN_REGISTERED_STANDALONE')
  })

  it('refuses reused and expired registration tokens', async () => {
    await ok(['gateway', 'cloudserviceconfig', 'enable', '-c', gw(3)])
    await ok(['gateway', 'cloudserviceconfig', 'settrs', '--server', 'nam', '-c', gw(3)])
    const token = (await ok(['hub', 'token', 'create', '--config', hubConfig])).trim()
    await ok(['gateway', 'cloudserviceconfig', 'register', '--token', token, '-c', gw(3)])
    await ok(['gateway', 'cloudserviceconfig', 'deregister', '-c', gw(3)])
    const reused = await cli([
      'gateway',
      'cloudserviceconfig',
      'register',
      '--token',
      token,
      '-c',
      gw(3),
    ])
    expect(reused.code).toBe(1)
    expect(reused.stderr).toContain('HUB_ERR_REGISTRATION_TOKEN_USED')

    const short = (await ok(['hub', 'token', 'create', '--config', hubConfig, '--ttl', '1'])).trim()
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    const expired = await cli([
      'gateway',
      'cloudserviceconfig',
      'register',
      '--token',
      short,
      '-c',
      gw(3),
    ])
    expect(expired.stderr).toContain('HUB_ERR_REGISTRATION_TOKEN_EXPIRED')
    expect((await status(3)).state).toBe('not registered')
  })

  it('deregisters from the gateway, and refuses a credential revoked in the hub', async () => {
    const id1 = (await status(1)).registration.deviceId
    await ok(['gateway', 'cloudserviceconfig', 'deregister', '-c', gw(1)])
    expect((await status(1)).state).toBe('not registered')
    expect((await devices()).map((d) => d.id)).not.toContain(id1)

    const id2 = (await status(2)).registration.deviceId
    expect((await api('DELETE', `/api/v1/devices/${id2}`)).status).toBe(204)
    const refused = await waitFor(
      async () => {
        const s = await status(2)
        return s.lastError?.message.includes('TUNNEL') || s.lastError?.message.includes('refused')
          ? s
          : false
      },
      { timeoutMs: 30_000, what: 'gw2 to see its credential refused' },
    )
    expect(refused.state).toBe('registered')
    expect(refused.lastError.message).toMatch(/refused/)

    const audit = (await api('GET', '/api/v1/audit?limit=1000')).body.items.map(
      (e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`,
    )
    expect(audit).toEqual(
      expect.arrayContaining([
        'device.register:success',
        'device.register:denied',
        'device.deregister:success',
        'gateway.cloud.register:success',
      ]),
    )
  })
})
