import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { AuditLog, Database, resolveDatabaseTarget, type GatewaySchema } from '@postern/store'
import { createTestDatabase, BACKENDS, type TestDatabase } from '@postern/store/testing'
import {
  freePort,
  requireProgram,
  startProcess,
  tempDir,
  waitFor,
  type RunningProcess,
} from '@postern/testkit'
import { POSTERN, ROOT, bootstrapHub, clientAccessToken, cli, ok } from '../support/postern-cli.js'

const run = promisify(execFile)
const PTY = join(ROOT, 'test/integration/pty-driver.py')

// The suite shares two cores with other work: one CLI call can take several seconds just to
// start Node. Waits are generous and bounded; nothing here asserts on time.
/** Longest wait for a process to start or a CLI call to finish. */
const START_MS = 120_000
/** Longest wait for the processes to converge (connected, reconnected, telemetry stored). */
const SETTLE_MS = 90_000
/** Longest a test case may take (it runs a dozen CLI processes). */
const STEP_MS = 420_000

// Replies of the hub API and `--json` CLI output, read loosely by the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

/**
 * The seed's integration procedure (table 1, steps 1–7) between real processes: a hub and two
 * gateways (`postern gateway --config`), each its own process, registered through the CLI (one of them
 * through the interactive menu in a pseudo-terminal), surviving a hub restart, sending usage
 * telemetry, enforcing the region and cluster rules, and refusing reused or expired tokens and
 * revoked credentials.
 */
describe.each(BACKENDS)('hub and gateways as processes on %s', (dialect) => {
  const python = requireProgram('python3', 'python3')
  const dir = tempDir('postern-e2e-')
  const databases: TestDatabase[] = []
  const processes: RunningProcess[] = []
  const gateways = new Map<number, RunningProcess>()
  const gatewayDatabases = new Map<number, string>()
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
    await hub.waitForLine(/HUB_LISTENING/, START_MS)
  }

  let client: { client_id: string; client_secret: string }

  /** An access token of the e2e API client (they live 10 minutes; the suite may run longer). */
  async function freshToken(): Promise<string> {
    return clientAccessToken(hubUrl, client)
  }

  async function api(method: string, path: string): Promise<{ status: number; body: Json }> {
    const send = () =>
      fetch(`${hubUrl}${path}`, { method, headers: { authorization: `Bearer ${accessToken}` } })
    let res = await send()
    if (res.status === 401) {
      accessToken = await freshToken()
      res = await send()
    }
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }

  async function devices(): Promise<Json[]> {
    return (await api('GET', '/api/v1/devices')).body.items
  }

  /** The gateway's own audit log (action:outcome), read from its database. */
  async function gatewayAudit(n: number): Promise<string[]> {
    const db = await Database.open<GatewaySchema>(
      resolveDatabaseTarget(
        gatewayDatabases.get(n) as string,
        join(dir.path, `gw${n}`),
        'gateway.db',
      ),
    )
    try {
      const { entries } = await new AuditLog(db.db).list({ limit: 1000 })
      return entries.map((e) => `${e.action}:${e.outcome}`)
    } finally {
      await db.close()
    }
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
      gatewayDatabases.set(n, await database())
      writeFileSync(
        gw(n),
        [
          `dataDir: ${join(dir.path, `gw${n}`)}`,
          `database: ${gatewayDatabases.get(n)}`,
          'http: 127.0.0.1:0',
          'listeners:',
          '  - name: inbound',
          '    smtp: 127.0.0.1:0',
          '    rat:',
          '      - recipient: example.com',
          '        action: ACCEPT',
          'smtpRoutes:',
          '  - domain: example.com',
          `    to: ['maildir:${join(dir.path, `gw${n}`, 'mail')}']`,
          'log:',
          '  level: info',
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
    client = await bootstrapHub(hubConfig, {
      name: 'e2e',
      scopes: 'devices audit:read profile',
    })
    await startHub()
    accessToken = await freshToken()
    for (const n of [1, 2]) {
      const gateway = startProcess(process.execPath, [POSTERN, 'gateway', '--config', gw(n)], {
        cwd: ROOT,
      })
      processes.push(gateway)
      gateways.set(n, gateway)
      await gateway.waitForLine(/postern gateway ready/, START_MS)
    }
  }, STEP_MS)

  // A failure on a loaded machine is only understood with what the processes said.
  afterEach((context) => {
    if (context.task.result?.state !== 'fail') return
    for (const [name, p] of [
      ['hub', hub] as const,
      ...[...gateways].map(([n, g]) => [`gw${n}`, g] as const),
    ]) {
      process.stderr.write(
        `--- ${name} (${dialect}) output, last 6000 characters ---\n${p.output().slice(-6000)}\n`,
      )
    }
  })

  afterAll(async () => {
    for (const p of processes.reverse()) await p.stop()
    for (const db of databases) await db.drop()
    dir.remove()
  })

  it(
    'registers one gateway with flags and one through the interactive menu, and lists both connected',
    async () => {
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
      const args = [PTY, JSON.stringify(steps), '--', process.execPath, POSTERN]
      args.push('gateway', 'cloudserviceconfig', '-c', gw(2))
      const { stdout } = await run(python, args, { cwd: ROOT, timeout: STEP_MS }).catch(
        (err: { code?: number; stdout?: string; stderr?: string }) => {
          throw new Error(
            `the interactive session failed (exit ${err.code}); its terminal:\n${err.stdout}${err.stderr}`,
          )
        },
      )
      expect(stdout).toContain('Choose the operation you want to perform:')
      expect(stdout).toContain('Registered.')

      const list = await waitFor(
        async () => {
          const items = await devices()
          return items.length === 2 && items.every((d) => d.status === 'connected') ? items : false
        },
        { timeoutMs: SETTLE_MS, what: 'both gateways connected' },
      )
      expect(list.map((d) => d.name).sort()).toEqual(expect.arrayContaining([expect.any(String)]))
      expect(
        list.every(
          (d) => d.region === 'nam' && d.deployment === 'standalone' && d.version === '0.1.0',
        ),
      ).toBe(true)
      expect((await status(1)).state).toBe('connected')
      expect((await status(2)).state).toBe('connected')
    },
    STEP_MS,
  )

  it(
    'survives a hub restart: both gateways reconnect',
    async () => {
      await hub.kill9()
      await waitFor(async () => (await status(1)).state === 'registered', {
        timeoutMs: SETTLE_MS,
        what: 'gw1 to notice the hub is gone',
      })
      await startHub()
      await waitFor(
        async () => {
          const items = await devices()
          return items.length === 2 && items.every((d) => d.status === 'connected')
        },
        { timeoutMs: SETTLE_MS, what: 'both gateways reconnected' },
      )
    },
    STEP_MS,
  )

  it(
    'refuses module calls while Threat Response is off and answers them once it is on',
    async () => {
      const id = (await status(1)).registration.deviceId
      const refused = await api('POST', `/api/v1/devices/${id}/health`)
      expect(refused.body.error.code).toBe('GW_CLOUD_ERR_THREAT_RESPONSE_DISABLED')
      expect((await api('GET', `/api/v1/devices/${id}`)).body.threatResponse).toBe('disabled')
      await ok(['gateway', 'cloudserviceconfig', 'securex', 'enable', '-c', gw(1)])
      await waitFor(
        async () => (await api('GET', `/api/v1/devices/${id}`)).body.threatResponse === 'enabled',
        { timeoutMs: SETTLE_MS },
      )
      const health = await api('POST', `/api/v1/devices/${id}/health`)
      expect(health.body.reply).toEqual({
        data: { status: 'ok', version: '0.1.0', gateway: expect.any(String) },
      })
    },
    STEP_MS,
  )

  it(
    'sends usage telemetry once enabled, exactly as `csn show` prints it',
    async () => {
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
        { timeoutMs: SETTLE_MS, what: 'telemetry on the hub' },
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
      expect(
        sent.features.find((f: { name: string }) => f.name === 'Usage Telemetry'),
      ).toMatchObject({ enabled: true, status: 'compliance' })
    },
    STEP_MS,
  )

  it(
    'refuses a region change and a cluster join while registered standalone',
    async () => {
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
    },
    STEP_MS,
  )

  it(
    'refuses reused and expired registration tokens',
    async () => {
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

      const short = (
        await ok(['hub', 'token', 'create', '--config', hubConfig, '--ttl', '1'])
      ).trim()
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
    },
    STEP_MS,
  )

  it(
    'deregisters from the gateway, and refuses a credential revoked in the hub',
    async () => {
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
        { timeoutMs: SETTLE_MS, what: 'gw2 to see its credential refused' },
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
      // The gateways' own audit logs: registration (with the token), settings changes,
      // deregistration, refused tokens and the refused device credential.
      expect(await gatewayAudit(1)).toEqual(
        expect.arrayContaining([
          'cloud.register:success',
          'cloud.settings.update:success',
          'cloud.deregister:success',
          'cloud.server.change:denied',
          'cluster.join:denied',
        ]),
      )
      const gw2Audit = await waitFor(
        async () => {
          const entries = await gatewayAudit(2)
          return entries.includes('cloud.credential.refused:denied') ? entries : false
        },
        { timeoutMs: SETTLE_MS, what: 'gw2 to audit the refused credential' },
      )
      expect(gw2Audit).toEqual(
        expect.arrayContaining(['cloud.register:success', 'cloud.settings.update:success']),
      )
      expect(await gatewayAudit(3)).toEqual(
        expect.arrayContaining(['cloud.register:success', 'cloud.register:failure']),
      )
    },
    STEP_MS,
  )
})
