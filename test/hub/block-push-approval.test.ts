import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import { signIn, startTestHub, type HubHarness } from './harness.js'

const PASSWORD = 'correct horse battery'

/**
 * Block pushes under the organisation's approval policy, through the hub's routes (real hub,
 * console sessions, SQLite and PostgreSQL): with approval required a push waits (202) in the
 * approval workflow; a second user's approval runs it and records the outcome; rejection and
 * expiry never run it; nobody approves their own; every step is audited.
 */
describe.each(BACKENDS)('block push approval on %s', (dialect) => {
  let h: HubHarness
  type As = Awaited<ReturnType<typeof signIn>>
  let admin: As
  let alice: As
  let bob: As

  beforeAll(async () => {
    h = await startTestHub(dialect)
    await h.hub.admin.createOrgWithAdmin({
      orgName: 'Org A',
      email: 'admin@a.example',
      password: PASSWORD,
    })
    await h.hub.admin.createOrgWithAdmin({
      orgName: 'Org B',
      email: 'admin@b.example',
      password: PASSWORD,
    })
    for (const email of ['alice@a.example', 'bob@a.example'])
      await h.hub.admin.createUser({ org: 'Org A', email, role: 'analyst', password: PASSWORD })
    admin = await signIn(h.hub, 'admin@a.example', PASSWORD)
    alice = await signIn(h.hub, 'alice@a.example', PASSWORD)
    bob = await signIn(h.hub, 'bob@a.example', PASSWORD)
  })
  afterAll(async () => {
    await h?.stop()
  })

  const shortId = (id: string) => id.split('/').pop() as string
  async function maliciousJudgement(value: string, disposition = 2): Promise<string> {
    const res = await alice('POST', '/ctia/judgement', {
      confidence: 'High',
      disposition,
      observable: { type: 'email', value },
      priority: 95,
      severity: 'High',
      source: 'analyst',
    })
    expect(res.statusCode).toBe(201)
    return shortId(res.json().id)
  }
  const auditActions = async () =>
    ((await admin('GET', '/api/v1/audit?limit=500')).json().items as { action: string }[]).map(
      (e) => e.action,
    )

  it('needs no approval by default, and only an admin changes the policy (strictly validated)', async () => {
    expect((await alice('GET', '/api/v1/sharing/block-policy')).json()).toEqual({
      approval_required: false,
    })
    const direct = await alice(
      'POST',
      `/api/v1/judgements/${await maliciousJudgement('a@evil.test')}/blocks`,
      {},
    )
    expect(direct.statusCode).toBe(200)
    expect(direct.json()).toEqual({
      entries: [{ kind: 'sender_address', value: 'a@evil.test', expires_at: null }],
      skipped: [],
      gateways: [],
    })

    expect(
      (await alice('PUT', '/api/v1/sharing/block-policy', { approval_required: false })).statusCode,
    ).toBe(403)
    for (const body of [{}, { approval_required: 'yes' }, { approval_required: true, org: 'x' }])
      expect((await admin('PUT', '/api/v1/sharing/block-policy', body)).statusCode).toBe(400)
    const set = await admin('PUT', '/api/v1/sharing/block-policy', { approval_required: true })
    expect(set.statusCode).toBe(200)
    expect(set.json()).toEqual({ approval_required: true })
    expect((await alice('GET', '/api/v1/sharing/block-policy')).json()).toEqual({
      approval_required: true,
    })
    // Another organisation keeps its own policy.
    const other = await signIn(h.hub, 'admin@b.example', PASSWORD)
    expect((await other('GET', '/api/v1/sharing/block-policy')).json()).toEqual({
      approval_required: false,
    })
    expect(await auditActions()).toContain('sharing.block_policy.update')
  })

  it('files a judgement push for approval and runs it once another user approves', async () => {
    const jid = await maliciousJudgement('boss@ceo-fraud.test')
    const pushed = await alice('POST', `/api/v1/judgements/${jid}/blocks`, {})
    expect(pushed.statusCode).toBe(202)
    const { approval_id: id, status, expires_at } = pushed.json()
    expect(status).toBe('pending')
    expect(Date.parse(expires_at)).toBeGreaterThan(h.clock.now())
    const request = (await bob('GET', `/api/v1/approvals/${id}`)).json()
    expect(request).toMatchObject({
      module_instance_id: 'postern-hub',
      action_id: 'push-judgement-blocks',
      observable: { type: 'email', value: 'boss@ceo-fraud.test' },
      extras: { entity_id: jid, requester_kind: 'user' },
      status: 'pending',
      result: null,
    })
    expect((await auditActions()).filter((a) => a === 'judgement.push_blocks')).toHaveLength(1)

    const own = await alice('POST', `/api/v1/approvals/${id}/approve`, {})
    expect(own.statusCode).toBe(403)
    expect(own.json().error.code).toBe('HUB_ERR_APPROVAL_OWN_REQUEST')

    const approved = await bob('POST', `/api/v1/approvals/${id}/approve`, { comment: 'confirmed' })
    expect(approved.statusCode).toBe(200)
    expect(approved.json()).toMatchObject({
      status: 'approved',
      comment: 'confirmed',
      result: {
        status: 'success',
        entries: [{ kind: 'sender_address', value: 'boss@ceo-fraud.test', expires_at: null }],
        gateways: [],
      },
    })
    const audit = (await admin('GET', '/api/v1/audit?limit=500')).json().items as {
      action: string
      actor: { id: string }
      details: Record<string, unknown>
    }[]
    expect(audit.map((e) => e.action)).toEqual(
      expect.arrayContaining(['approval.request', 'approval.approve']),
    )
    const pushes = audit.filter((e) => e.action === 'judgement.push_blocks')
    expect(pushes).toHaveLength(2)
    expect(pushes.find((e) => e.details.approvalId === id)).toBeDefined()
  })

  it('never runs a rejected or an expired push', async () => {
    const before = (await auditActions()).filter((a) => a === 'judgement.push_blocks').length
    const rejectedId = (
      await alice(
        'POST',
        `/api/v1/judgements/${await maliciousJudgement('x@evil.test')}/blocks`,
        {},
      )
    ).json().approval_id
    const rejected = await bob('POST', `/api/v1/approvals/${rejectedId}/reject`, { comment: 'no' })
    expect(rejected.json()).toMatchObject({ status: 'rejected', result: null })

    const lateId = (
      await alice(
        'POST',
        `/api/v1/judgements/${await maliciousJudgement('y@evil.test')}/blocks`,
        {},
      )
    ).json().approval_id
    const start = h.clock.now()
    h.clock.advance(25 * 3_600_000)
    try {
      const late = await signIn(h.hub, 'bob@a.example', PASSWORD)
      expect((await late('GET', `/api/v1/approvals/${lateId}`)).json().status).toBe('expired')
      expect((await late('POST', `/api/v1/approvals/${lateId}/approve`, {})).statusCode).toBe(409)
    } finally {
      h.clock.set(start)
    }
    const actions = await auditActions()
    expect(actions.filter((a) => a === 'judgement.push_blocks')).toHaveLength(before)
    expect(actions).toEqual(expect.arrayContaining(['approval.reject', 'approval.expire']))
  })

  it('refuses at once what could never run, and gates casebook pushes too', async () => {
    const clean = await alice(
      'POST',
      `/api/v1/judgements/${await maliciousJudgement('ok@fine.test', 1)}/blocks`,
      {},
    )
    expect(clean.statusCode).toBe(400)
    expect(
      (await alice('POST', '/api/v1/judgements/judgement-unknown/blocks', {})).statusCode,
    ).toBe(404)

    const casebook = await alice('POST', '/ctia/casebook', {
      title: 'Invoice fraud',
      observables: [{ type: 'domain', value: 'invoice-fraud.test' }],
    })
    const cid = shortId(casebook.json().id)
    const pushed = await alice('POST', `/api/v1/casebooks/${cid}/blocks`, {
      expires_at: '2026-03-01T00:00:00Z',
    })
    expect(pushed.statusCode).toBe(202)
    const id = pushed.json().approval_id
    expect((await bob('GET', `/api/v1/approvals/${id}`)).json()).toMatchObject({
      action_id: 'push-casebook-blocks',
      observable: { type: 'casebook', value: cid },
      extras: { entity_id: cid, expires_at: '2026-03-01T00:00:00.000Z' },
    })
    const approved = await bob('POST', `/api/v1/approvals/${id}/approve`, {})
    expect(approved.json().result).toMatchObject({
      status: 'success',
      entries: [
        {
          kind: 'sender_domain',
          value: 'invoice-fraud.test',
          expires_at: '2026-03-01T00:00:00.000Z',
        },
        { kind: 'url_domain', value: 'invoice-fraud.test', expires_at: '2026-03-01T00:00:00.000Z' },
      ],
    })
    // Removing blocks is not gated.
    expect((await alice('DELETE', `/api/v1/casebooks/${cid}/blocks`)).statusCode).toBe(200)
  })
})
