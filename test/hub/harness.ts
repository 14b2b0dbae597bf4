import { ManualClock, silentLogger } from '@postern/core'
import { validateConfig } from '@postern/core'
import { createTestDatabase, type TestDatabase } from '@postern/store/testing'
import type { Dialect } from '@postern/store'
import { tempDir } from '@postern/testkit'
import { Hub, hubConfigSchema, type HubConfig } from '@postern/hub'

export interface HubHarness {
  hub: Hub
  clock: ManualClock
  config: HubConfig
  stop(): Promise<void>
}

/** A hub on an ephemeral port over a fresh SQLite or PostgreSQL database, with a manual clock. */
export async function startTestHub(
  dialect: Dialect,
  overrides: Record<string, unknown> = {},
): Promise<HubHarness> {
  const testDb: TestDatabase = await createTestDatabase(dialect)
  const dir = tempDir('postern-hub-')
  const clock = new ManualClock(Date.UTC(2026, 0, 1))
  const config = validateConfig(hubConfigSchema, {
    dataDir: dir.path,
    database: testDb.configValue,
    listen: '127.0.0.1:0',
    nodeId: 'test-node',
    tunnel: { heartbeatSeconds: 1 },
    ...overrides,
  })
  const hub = await Hub.start({ config, clock, logger: silentLogger() })
  return {
    hub,
    clock,
    config,
    async stop() {
      await hub.stop()
      await testDb.drop()
      dir.remove()
    },
  }
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
}

/** Gets an access token the way Threat Response clients do (reference §1). */
export async function fetchToken(
  hub: Hub,
  clientId: string,
  secret: string,
  scope?: string,
): Promise<string> {
  const res = await hub.app.inject({
    method: 'POST',
    url: '/iroh/oauth2/token',
    headers: {
      authorization: basic(clientId, secret),
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    payload: `grant_type=client_credentials${scope ? `&scope=${encodeURIComponent(scope)}` : ''}`,
  })
  if (res.statusCode !== 200)
    throw new Error(`token endpoint answered ${res.statusCode}: ${res.body}`)
  return (res.json() as { access_token: string }).access_token
}

/**
 * Signs a console user in (session cookie and CSRF token, as the console does) and returns a
 * caller of the hub's routes as that user.
 */
export async function signIn(hub: Hub, email: string, password: string) {
  const login = await hub.app.inject({
    method: 'POST',
    url: '/api/v1/session',
    payload: { email, password },
  })
  if (login.statusCode !== 200) throw new Error(`login answered ${login.statusCode}: ${login.body}`)
  const cookie = login.cookies.find((c) => c.name === 'postern_hub_session')
  const headers = {
    cookie: `postern_hub_session=${cookie?.value}`,
    'x-csrf-token': (login.json() as { csrfToken: string }).csrfToken,
  }
  return (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
    hub.app.inject({
      method,
      url,
      headers,
      ...(payload !== undefined ? { payload: payload as object } : {}),
    })
}
