import { execFile } from 'node:child_process'
import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import { tempDir, waitFor } from '@postern/testkit'
import { sendWithNodemailer } from './support/clients.js'
import { startGateway, writeConfigFile, type TestGateway } from './support/gateway.js'

const POSTERN = new URL('../../bin/postern.js', import.meta.url).pathname

/** Runs the `postern` binary; resolves with exit code, stdout and stderr. */
async function postern(args: string[], input?: string) {
  const child = execFile(process.execPath, [POSTERN, ...args])
  if (input !== undefined) child.stdin?.end(input)
  else child.stdin?.end()
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()))
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)))
  return { code, stdout, stderr }
}

describe.each(BACKENDS)('gateway HTTP API and CLI (%s)', (dialect) => {
  let gw: TestGateway
  const files = tempDir('postern-api-')
  let configFile: string

  beforeAll(async () => {
    const passwordFile = join(files.path, 'admin-password')
    writeFileSync(passwordFile, 'first admin password\n', { mode: 0o600 })
    gw = await startGateway(
      {
        listeners: [
          {
            name: 'inbound',
            smtp: '127.0.0.1:0',
            rat: [{ recipient: 'corp.example', action: 'ACCEPT' }],
          },
        ],
        // Nothing listens there: mail stays deferred in the queue for the queue commands.
        smtpRoutes: [{ domain: '*', to: ['127.0.0.1:9'] }],
        queue: { retry: { initialDelay: '1h', maxDelay: '1h' } },
        api: { initialAdmin: { username: 'root', passwordFile } },
      },
      { dialect },
    )
    configFile = join(files.path, 'gateway.yaml')
    writeConfigFile(configFile, { dataDir: gw.dataDir, database: gw.config.database })
  })
  afterAll(async () => {
    await gw?.stop()
    files.remove()
  })

  it('authenticates every route but health, login and the OpenAPI document (route walk)', async () => {
    const routes = gw.gateway.routes
    expect(routes.length).toBeGreaterThan(15)
    // The OpenAPI document is public too; createHttpApp registers it before any hook.
    expect(
      routes
        .filter((r) => r.public)
        .map((r) => `${r.method} ${r.url}`)
        .sort(),
    ).toEqual(['GET /healthz', 'POST /api/v1/auth/login'])
    for (const route of routes.filter((r) => !r.public)) {
      const url = route.url.replace(/:[a-z]+/gi, '1')
      const withBody = route.method !== 'GET' && route.method !== 'DELETE'
      const res = await fetch(`${gw.httpUrl}${url}`, {
        method: route.method,
        headers: withBody ? { 'content-type': 'application/json' } : {},
        body: withBody ? '{}' : undefined,
      })
      expect(res.status, `${route.method} ${route.url}`).toBe(401)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
        'HTTP_ERR_UNAUTHENTICATED',
      )
    }
    expect(
      (await gw.api('GET', '/api/v1/queue', undefined, 'not-a-real-token-but-long-enough')).status,
    ).toBe(401)
  })

  it('serves health and Prometheus metrics', async () => {
    const health = await gw.api<{ status: string; checks: Record<string, string> }>(
      'GET',
      '/healthz',
      undefined,
      '',
    )
    expect(health).toMatchObject({
      status: 200,
      body: { status: 'ok', checks: { spool: 'ok', database: 'ok' } },
    })
    const metrics = await gw.api<string>('GET', '/metrics')
    expect(metrics.body).toContain('postern_spool_fsync_seconds_bucket')
    expect(metrics.body).toContain('postern_queue_messages')
    expect(metrics.body).toContain('postern_process_resident_memory_bytes')
  })

  it('creates the initial admin from its password file and logs in', async () => {
    const bad = await gw.api(
      'POST',
      '/api/v1/auth/login',
      { username: 'root', password: 'wrong' },
      '',
    )
    expect(bad).toMatchObject({ status: 401, body: { error: { code: 'GW_ERR_LOGIN_FAILED' } } })
    const login = await gw.api<{ token: string; user: { role: string } }>(
      'POST',
      '/api/v1/auth/login',
      { username: 'root', password: 'first admin password' },
      '',
    )
    expect(login.status).toBe(200)
    expect(login.body.user.role).toBe('admin')
    const me = await gw.api('GET', '/api/v1/auth/whoami', undefined, login.body.token)
    expect(me.body).toEqual({ kind: 'session', name: 'root', role: 'admin' })
    expect((await gw.api('POST', '/api/v1/auth/logout', undefined, login.body.token)).status).toBe(
      200,
    )
    expect((await gw.api('GET', '/api/v1/auth/whoami', undefined, login.body.token)).status).toBe(
      401,
    )
  })

  it('enforces roles: read-only looks, operator acts on the queue, admin manages accounts', async () => {
    const created = async (role: string) =>
      (await gw.api<{ token: string }>('POST', '/api/v1/tokens', { name: `${role} token`, role }))
        .body.token
    const reader = await created('read-only')
    const operator = await created('operator')
    const reply = await sendWithNodemailer({
      port: gw.smtpPort(),
      from: 'a@ext.example',
      to: 'bob@corp.example',
      subject: 'roles',
    })
    const mid = Number(/queued as (\d+)/.exec(reply)?.[1])
    await waitFor(
      async () =>
        (await gw.api<{ state: string }>('GET', `/api/v1/queue/${mid}`)).body.state === 'deferred',
    )
    expect((await gw.api('GET', '/api/v1/queue', undefined, reader)).status).toBe(200)
    expect(await gw.api('POST', `/api/v1/queue/${mid}/hold`, undefined, reader)).toMatchObject({
      status: 403,
      body: { error: { code: 'HTTP_ERR_FORBIDDEN' } },
    })
    expect((await gw.api('POST', `/api/v1/queue/${mid}/hold`, undefined, operator)).status).toBe(
      200,
    )
    expect((await gw.api('GET', '/api/v1/users', undefined, operator)).status).toBe(403)
    expect(
      (await gw.api('POST', '/api/v1/tokens', { name: 'x', role: 'admin' }, operator)).status,
    ).toBe(403)
    const audit = await gw.gateway.audit.list({ action: 'queue.hold' })
    expect(audit.entries[0]).toMatchObject({
      actor: { id: 'operator token' },
      target: { type: 'message', id: String(mid) },
    })
  })

  it('manages users and refuses to remove the last admin', async () => {
    expect(
      (
        await gw.api('POST', '/api/v1/users', {
          username: 'ops',
          password: 'short',
          role: 'operator',
        })
      ).body,
    ).toMatchObject({ error: { code: 'GW_ERR_PASSWORD_INVALID' } })
    expect(
      (
        await gw.api('POST', '/api/v1/users', {
          username: 'ops',
          password: 'long enough password',
          role: 'operator',
        })
      ).status,
    ).toBe(200)
    expect(
      (
        await gw.api('POST', '/api/v1/users', {
          username: 'ops',
          password: 'long enough password',
          role: 'operator',
        })
      ).status,
    ).toBe(409)
    expect((await gw.api('DELETE', '/api/v1/users/root')).body).toMatchObject({
      error: { code: 'GW_ERR_LAST_ADMIN' },
    })
    expect((await gw.api('PATCH', '/api/v1/users/root', { role: 'read-only' })).status).toBe(409)
    expect((await gw.api('DELETE', '/api/v1/users/ops')).status).toBe(200)
  })

  it('keeps the local CLI credential private to the gateway user', () => {
    expect(statSync(join(gw.dataDir, 'cli-token')).mode & 0o777).toBe(0o600)
    expect(statSync(join(gw.dataDir, 'gateway.json')).mode & 0o777).toBe(0o600)
  })

  it('adds users and tokens from the CLI without the API, reading passwords from stdin', async () => {
    const add = await postern(
      [
        'gateway',
        'user',
        'add',
        'cliuser',
        '--role',
        'read-only',
        '--password-stdin',
        '--json',
        '--config',
        configFile,
      ],
      'a cli password\n',
    )
    expect(add.code, add.stderr).toBe(0)
    expect(JSON.parse(add.stdout)).toMatchObject({ username: 'cliuser', role: 'read-only' })
    const login = await gw.api<{ token: string }>(
      'POST',
      '/api/v1/auth/login',
      { username: 'cliuser', password: 'a cli password' },
      '',
    )
    expect(login.status).toBe(200)
    const token = await postern([
      'gateway',
      'token',
      'create',
      'monitoring',
      '--role',
      'read-only',
      '--expires',
      '30d',
      '--json',
      '--config',
      configFile,
    ])
    const value = (JSON.parse(token.stdout) as { token: string }).token
    expect((await gw.api('GET', '/metrics', undefined, value)).status).toBe(200)
    const hash = await postern(
      ['gateway', 'hash-password', '--password-stdin'],
      'some long password\n',
    )
    expect(hash.stdout).toMatch(/^scrypt\$32768\$8\$1\$/)
    const short = await postern(['gateway', 'hash-password', '--password-stdin'], 'short\n')
    expect(short.code).toBe(65)
  })

  it('reports a gateway that is not running', async () => {
    const other = join(files.path, 'other.yaml')
    writeConfigFile(other, { dataDir: join(files.path, 'nowhere') })
    const result = await postern(['gateway', 'queue', 'list', '--config', other])
    expect(result.code).toBe(69)
    expect(result.stderr).toContain('GW_ERR_GATEWAY_UNREACHABLE')
  })
})

describe('postern gateway queue … against a running gateway', () => {
  let gw: TestGateway
  const files = tempDir('postern-cli-')
  let configFile: string

  beforeAll(async () => {
    gw = await startGateway({
      smtpRoutes: [{ domain: '*', to: ['127.0.0.1:9'] }],
      queue: { retry: { initialDelay: '1h', maxDelay: '1h' } },
    })
    configFile = join(files.path, 'gateway.yaml')
    writeConfigFile(configFile, { dataDir: gw.dataDir, database: gw.config.database })
  })
  afterAll(async () => {
    await gw?.stop()
    files.remove()
  })

  it('lists, holds, releases and deletes from the CLI, with --json and exit codes', async () => {
    const reply = await sendWithNodemailer({
      port: gw.smtpPort(),
      from: 'cli@ext.example',
      to: 'bob@corp.example',
      subject: 'cli',
    })
    const mid = Number(/queued as (\d+)/.exec(reply)?.[1])
    await waitFor(
      async () =>
        (await gw.api<{ state: string }>('GET', `/api/v1/queue/${mid}`)).body.state === 'deferred',
    )
    const list = await postern(['gateway', 'queue', 'list', '--json', '--config', configFile])
    expect(list.code).toBe(0)
    expect(
      (JSON.parse(list.stdout) as { items: { mid: number }[] }).items.map((i) => i.mid),
    ).toContain(mid)
    const human = await postern(['gateway', 'queue', 'list', '--config', configFile])
    expect(human.stdout).toMatch(new RegExp(`^${mid}\\s+deferred`, 'm'))
    expect(
      (await postern(['gateway', 'queue', 'hold', String(mid), '--config', configFile])).code,
    ).toBe(0)
    expect((await gw.api<{ state: string }>('GET', `/api/v1/queue/${mid}`)).body.state).toBe('held')
    expect(
      (await postern(['gateway', 'queue', 'release', String(mid), '--config', configFile])).code,
    ).toBe(0)
    await waitFor(
      async () =>
        (await postern(['gateway', 'queue', 'delete', String(mid), '--config', configFile]))
          .code === 0,
    )
    const missing = await postern([
      'gateway',
      'queue',
      'show',
      String(mid),
      '--json',
      '--config',
      configFile,
    ])
    expect(missing.code).toBe(1)
    expect(JSON.parse(missing.stderr)).toMatchObject({
      error: { code: 'GW_ERR_QUEUE_MESSAGE_NOT_FOUND' },
    })
    const usage = await postern(['gateway', 'queue', 'hold', 'abc', '--config', configFile])
    expect(usage.code).not.toBe(0)
    const show = await postern(['gateway', 'tracking', 'show', String(mid), '--config', configFile])
    expect(show.stdout).toContain('DELETED')
  }, 180_000) // nine CLI processes, each a cold Node start
})
