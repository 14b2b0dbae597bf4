import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SCOPE_CATALOGUE } from '@postern/hub'
import { BACKENDS } from '@postern/store/testing'
import { waitFor } from '@postern/testkit'
import type { TunnelClient } from '@postern/tunnel'
import { fetchToken, startTestHub, signIn, type HubHarness } from '../hub/harness.js'
import { connectGatewayTunnel, registerGatewayDevice } from '../support/gateway-tunnel.js'

type Observable = { type: string; value: string }

const RUN = '/iroh/iroh-response/respond/recommended'

/**
 * What a gateway of the email module answers over its tunnel, reduced to what the recommended
 * set reads: a Malicious verdict for every observable, no sightings, a `block` action for each,
 * and success for every trigger (recorded, to show the other steps still ran).
 */
function gatewayAnswers(triggered: unknown[]) {
  return (path: string, body: unknown): unknown => {
    const observables = Array.isArray(body) ? (body as Observable[]) : []
    switch (path) {
      case '/deliberate/observables':
        return {
          data: {
            verdicts: {
              count: observables.length,
              docs: observables.map((observable) => ({
                type: 'verdict',
                observable,
                disposition: 2,
                disposition_name: 'Malicious',
              })),
            },
          },
        }
      case '/observe/observables':
        return { data: {} }
      case '/respond/observables':
        return {
          data: observables.map((o) => ({
            id: 'block',
            title: `Block ${o.value}`,
            description: 'Block on this gateway',
            categories: ['Block'],
            'query-params': { observable_type: o.type, observable_value: o.value },
          })),
        }
      case '/respond/trigger':
        triggered.push(body)
        return { data: { status: 'success' } }
      default:
        return { data: { status: 'ok' } }
    }
  }
}

describe.each(BACKENDS)('recommended set: add to the active case, on %s', (dialect) => {
  let h: HubHarness
  /** An operator's API client: owned by the organisation's first admin. */
  let token: string
  /** A client-credentials client no user owns. */
  let orphanToken: string
  let adminId: string
  let gateway: TunnelClient
  const triggered: unknown[] = []

  async function session(email: string) {
    await h.hub.admin.createUser({
      org: 'Org A',
      email,
      role: 'analyst',
      password: 'correct horse battery',
    })
    return signIn(h.hub, email, 'correct horse battery')
  }

  function asClient(method: 'GET' | 'POST', url: string, payload?: unknown, bearer = token) {
    return h.hub.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${bearer}` },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    })
  }

  async function lastRecommendedAudit() {
    const res = await asClient('GET', '/api/v1/audit?action=respond.recommended&limit=1')
    return res.json().items[0] as {
      actor: { type: string; id: string }
      outcome: string
      details: { steps: Record<string, unknown>[] }
    }
  }

  beforeAll(async () => {
    h = await startTestHub(dialect)
    const admin = await h.hub.admin.createOrgWithAdmin({
      orgName: 'Org A',
      email: 'admin@a.example',
    })
    adminId = admin.user.id
    const client = await h.hub.admin.createApiClient({
      org: 'Org A',
      name: 'analyst tool',
      scopes: SCOPE_CATALOGUE,
    })
    token = await fetchToken(h.hub, client.client.id, client.secret)
    const orphan = await h.hub.services.clients.create(
      {
        orgId: client.org.id,
        name: 'automation',
        scopes: SCOPE_CATALOGUE,
        expiresAt: null,
        grantorScopes: null,
        ownerUserId: null,
      },
      { type: 'system', id: 'test' },
    )
    orphanToken = await fetchToken(h.hub, orphan.client.id, orphan.secret)
    const registration = await registerGatewayDevice(h.hub, 'Org A', 'gw1')
    const answer = gatewayAnswers(triggered)
    gateway = connectGatewayTunnel({
      hubUrl: h.hub.url,
      credential: registration.credential,
      answer: async (path, body) => answer(path, body),
    })
    await waitFor(() => h.hub.tunnel.isConnected(registration.deviceId), {
      what: 'gateway tunnel',
      timeoutMs: 10_000,
    })
    const created = await asClient('POST', '/iroh/iroh-int/module-instance', {
      name: 'Gateways',
      module_type_id: 'postern-email-gateway',
    })
    expect(created.statusCode).toBe(201)
  })

  afterAll(async () => {
    await gateway?.stop()
    await h?.stop()
  })

  it('a user without an active case gets a new casebook named after the observable, made active', async () => {
    const alice = await session('alice@a.example')
    const observable = { type: 'domain', value: 'evil-one.example' }
    const res = await alice('POST', RUN, [observable])
    expect(res.statusCode).toBe(200)
    const { data, errors } = res.json()
    expect(errors).toEqual([])
    expect(data.status).toBe('success')
    expect(data.steps.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([
      ['block', 'success'],
      ['add-to-case', 'success'],
    ])
    const step = data.steps[1]
    expect(step).toMatchObject({
      module: 'Postern hub',
      observables: [observable],
      casebook_title: 'domain evil-one.example',
      created: true,
    })

    const active = (await alice('GET', '/api/v1/casebooks/active')).json().casebook
    expect(active.id).toBe(step.casebook_id)
    expect(active).toMatchObject({ title: 'domain evil-one.example', observables: [observable] })
    const audit = await lastRecommendedAudit()
    expect(audit).toMatchObject({ actor: { type: 'user' }, outcome: 'success' })
    expect(audit.details.steps.at(-1)).toEqual({
      id: 'add-to-case',
      status: 'success',
      casebookId: step.casebook_id,
      created: true,
    })
  })

  it('a user with an active case gets the observable added to it', async () => {
    const bob = await session('bob@a.example')
    const made = await bob('POST', '/ctia/casebook', {
      title: 'Bob’s investigation',
      observables: [{ type: 'ip', value: '192.0.2.7' }],
    })
    expect(made.statusCode).toBe(201)
    const activated = await bob('PUT', '/api/v1/casebooks/active', { casebook_id: made.json().id })
    expect(activated.statusCode).toBe(200)

    const observable = { type: 'domain', value: 'evil-two.example' }
    const res = await bob('POST', RUN, [observable])
    const step = res.json().data.steps.find((s: { id: string }) => s.id === 'add-to-case')
    expect(step).toMatchObject({
      status: 'success',
      created: false,
      casebook_title: 'Bob’s investigation',
    })
    const active = (await bob('GET', '/api/v1/casebooks/active')).json().casebook
    expect(active.id).toBe(made.json().id)
    expect(active.observables).toEqual([{ type: 'ip', value: '192.0.2.7' }, observable])
  })

  it('an API client without a user gets a coded answer for that step; the other steps still run', async () => {
    const before = triggered.length
    const observable = { type: 'domain', value: 'evil-three.example' }
    const res = await asClient('POST', RUN, [observable], orphanToken)
    expect(res.statusCode).toBe(200)
    const { data, errors } = res.json()
    expect(data.status).toBe('failure')
    expect(data.steps[0]).toMatchObject({ id: 'block', status: 'success' })
    expect(triggered.length).toBe(before + 1)
    expect(data.steps[1]).toMatchObject({
      id: 'add-to-case',
      status: 'failure',
      observables: [observable],
      error: {
        code: 'HUB_PI_ERR_ACTIVE_CASE_NEEDS_USER',
        message: 'Only a signed-in user has an active case',
      },
    })
    expect(data.steps[1].error.hint).toMatch(/POST \/ctia\/casebook\/\{id\}\/observables/)
    expect(errors).toEqual([
      expect.objectContaining({
        module: 'Postern hub',
        code: 'HUB_PI_ERR_ACTIVE_CASE_NEEDS_USER',
        type: 'error',
      }),
    ])
    const audit = await lastRecommendedAudit()
    expect(audit).toMatchObject({ actor: { type: 'client' }, outcome: 'failure' })
    expect(audit.details.steps.at(-1)).toEqual({
      id: 'add-to-case',
      status: 'failure',
      code: 'HUB_PI_ERR_ACTIVE_CASE_NEEDS_USER',
    })
  })

  it("an API client owned by a user adds to its owner's active case", async () => {
    const observable = { type: 'domain', value: 'evil-four.example' }
    const res = await asClient('POST', RUN, [observable])
    const step = res.json().data.steps.find((s: { id: string }) => s.id === 'add-to-case')
    expect(step).toMatchObject({ status: 'success', created: true })
    const audit = await lastRecommendedAudit()
    expect(audit.actor.type).toBe('client')
    const casebook = await asClient('GET', `/ctia/casebook/${encodeURIComponent(step.casebook_id)}`)
    expect(casebook.json()).toMatchObject({ title: 'domain evil-four.example', owner: adminId })
  })
})
