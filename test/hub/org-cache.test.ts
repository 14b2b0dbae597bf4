import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger, validateConfig } from '@postern/core'
import type { Observable } from '@postern/ctim'
import { Hub, SCOPE_CATALOGUE, hubConfigSchema } from '@postern/hub'
import { createTestDatabase, type TestDatabase } from '@postern/store/testing'
import type { TunnelClient } from '@postern/tunnel'
import { requireNats, tempDir, waitFor } from '@postern/testkit'
import { observeAnswer } from '../../bench/enrich/gateway-answers.js'
import { connectGatewayTunnel, registerGatewayDevice } from '../support/gateway-tunnel.js'
import { fetchToken } from './harness.js'

const OBSERVABLES = [{ type: 'domain', value: 'login-micros0ft.com' }]

/**
 * Each hub node caches what every request reads of an organisation (its client and org, its
 * enabled module instances, its devices) under the org's change counter. Two nodes on one
 * PostgreSQL database and one NATS bus: node B has cached the org's state, node A changes it
 * through the API (or the admin service), and B's next request must see the change — a revoked
 * client or a disabled org refused, a new or disabled module instance, a deregistered device.
 */
describe('two hub nodes on PostgreSQL and NATS share no stale org state', () => {
  const dir = tempDir('postern-org-cache-')
  let testDb: TestDatabase
  let a: Hub
  let b: Hub
  const gateways: TunnelClient[] = []
  const devices: string[] = []
  /** Tokens carry the node's URL as audience: one per node. */
  let adminToken: string
  let adminTokenOnB: string
  let analystClientId: string
  let analystToken: string
  let instanceId: string

  async function startNode(nodeId: string, natsUrl: string, prefix: string): Promise<Hub> {
    return Hub.start({
      config: validateConfig(hubConfigSchema, {
        dataDir: join(dir.path, nodeId),
        database: testDb.configValue,
        // Every node of one database seals its secrets with the same key file.
        secretKeyFile: join(dir.path, 'hub-secret.key'),
        listen: '127.0.0.1:0',
        nodeId,
        tunnel: { heartbeatSeconds: 1 },
        cluster: { natsUrl, subjectPrefix: prefix },
      }),
      logger: silentLogger(),
    })
  }

  beforeAll(async () => {
    const natsUrl = await requireNats()
    testDb = await createTestDatabase('postgres')
    const prefix = `postern-test.${randomUUID().replaceAll('-', '')}`
    a = await startNode('node-a', natsUrl, prefix)
    b = await startNode('node-b', natsUrl, prefix)
    await a.admin.createOrgWithAdmin({ orgName: 'Acme', email: 'admin@acme.example' })
    const admin = await a.admin.createApiClient({
      org: 'Acme',
      name: 'admin',
      scopes: SCOPE_CATALOGUE,
    })
    const analyst = await a.admin.createApiClient({
      org: 'Acme',
      name: 'analyst',
      scopes: SCOPE_CATALOGUE,
    })
    adminToken = await fetchToken(a, admin.client.id, admin.secret)
    adminTokenOnB = await fetchToken(b, admin.client.id, admin.secret)
    analystClientId = analyst.client.id
    analystToken = await fetchToken(b, analyst.client.id, analyst.secret)
    // Both gateways hold their tunnels to node A: node B reaches them over NATS.
    for (const name of ['gw1', 'gw2']) {
      const { deviceId, credential } = await registerGatewayDevice(a, 'Acme', name)
      devices.push(deviceId)
      gateways.push(
        connectGatewayTunnel({
          hubUrl: a.url,
          credential,
          answer: async (_path, body) => observeAnswer(name, body as Observable[], 1),
        }),
      )
    }
    await waitFor(() => devices.every((id) => a.tunnel.isConnected(id)), {
      what: 'both gateway tunnels on node A',
      timeoutMs: 30_000,
    })
  })
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()))
    await b?.stop()
    await a?.stop()
    await testDb?.drop()
    dir.remove()
  })

  function call(
    node: Hub,
    token: string,
    method: 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
  ) {
    return node.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload !== undefined ? { payload } : {}),
    })
  }

  /** Node B's observe: the module instances it calls and the gateways that answered. */
  async function observeOnB(token = analystToken) {
    const res = await call(b, token, 'POST', '/iroh/iroh-enrich/observe/observables', OBSERVABLES)
    expect(res.statusCode).toBe(200)
    const body = res.json() as {
      data: {
        module_instance_id: string
        data: { sightings: { docs: { source_uri: string }[] } }
      }[]
      errors: unknown[]
    }
    expect(body.errors).toEqual([])
    return body.data.map((module) => ({
      instance: module.module_instance_id,
      gateways: module.data.sightings.docs.map((doc) => new URL(doc.source_uri).hostname).sort(),
    }))
  }

  it('a module instance created on node A is called by node B', async () => {
    expect(await observeOnB()).toEqual([])
    const created = await call(a, adminToken, 'POST', '/iroh/iroh-int/module-instance', {
      name: 'Gateways',
      module_type_id: 'postern-email-gateway',
    })
    expect(created.statusCode).toBe(201)
    instanceId = created.json().id as string
    const seen = await observeOnB()
    expect(seen).toEqual([
      { instance: instanceId, gateways: ['gw1.example.org', 'gw2.example.org'] },
    ])
  })

  it('a device deregistered on node A is no longer called by node B', async () => {
    expect((await observeOnB())[0]?.gateways).toHaveLength(2)
    const removed = await call(a, adminToken, 'DELETE', `/api/v1/devices/${devices[1]}`)
    expect(removed.statusCode).toBe(204)
    const seen = await observeOnB()
    expect(seen).toHaveLength(1)
    expect(seen[0]?.gateways).toHaveLength(1)
    expect(seen[0]?.gateways).toEqual(['gw1.example.org'])
  })

  it('a module instance disabled on node A is no longer called by node B', async () => {
    expect(await observeOnB()).toHaveLength(1)
    const patched = await call(
      a,
      adminToken,
      'PATCH',
      `/iroh/iroh-int/module-instance/${instanceId}`,
      {
        enabled: false,
      },
    )
    expect(patched.statusCode).toBe(200)
    expect(await observeOnB()).toEqual([])
  })

  it('an API client revoked on node A is refused by node B at once', async () => {
    expect(await observeOnB()).toEqual([])
    const revoked = await call(a, adminToken, 'DELETE', `/api/v1/api-clients/${analystClientId}`)
    expect(revoked.statusCode).toBe(204)
    const refused = await call(
      b,
      analystToken,
      'POST',
      '/iroh/iroh-enrich/observe/observables',
      OBSERVABLES,
    )
    expect(refused.statusCode).toBe(401)
  })

  it('an organisation disabled on node A is refused by node B at once', async () => {
    expect(await observeOnB(adminTokenOnB)).toEqual([])
    const org = (await a.services.orgs.list()).find((o) => o.name === 'Acme')!
    await a.services.orgs.setEnabled(org.id, false, { type: 'cli', id: 'test' })
    const refused = await call(
      b,
      adminTokenOnB,
      'POST',
      '/iroh/iroh-enrich/observe/observables',
      OBSERVABLES,
    )
    expect(refused.statusCode).toBe(401)
  })
})
