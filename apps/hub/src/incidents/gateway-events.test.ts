import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import { startPrivateIntelHarness, type PrivateIntelHarness } from '../casebooks/testing.js'
import { CASEBOOK_MAX_TEXTS } from '@postern/ctim'
import { GATEWAY_EVENT_TOPIC, onGatewayEvent } from '../casebooks/mount.js'
import type { AutoIncidentResult } from './auto-incidents.js'

const ALICE = 'Bearer test:org-a:alice'
const GW = { orgId: 'org-a', deviceId: 'gw-1' }
const MINUTE = 60_000

describe.each(BACKENDS)('gateway events on %s', (dialect) => {
  let h: PrivateIntelHarness

  beforeAll(async () => {
    h = await startPrivateIntelHarness(dialect)
  })
  afterAll(async () => {
    await h.close()
  })

  const api = async (method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) => {
    const response = await h.app.inject({
      method,
      url,
      headers: {
        authorization: ALICE,
        ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
    })
    return { status: response.statusCode, json: () => JSON.parse(response.body) }
  }

  const detection = (mid: string, at: number, detectionKind = 'virus') => ({
    kind: 'detection',
    detection: detectionKind,
    key: { type: 'sha256', value: 'cd'.repeat(32) },
    at,
    message: { mid, messageId: `<${mid}@x.example>`, sender: 'a@x.example', subject: 'Invoice' },
    verdict: 'Eicar-Test-Signature',
  })

  it('raises incidents from detections under the org policy, grouping a campaign', async () => {
    expect((await api('GET', '/api/v1/incidents/auto-policy')).json()).toEqual({
      detections: ['virus', 'malicious_url', 'retro_remediation'],
      window_minutes: 60,
    })
    const t = h.clock.now()
    const first = await h.gatewayEvents.handle(GW, detection('1', t))
    const second = await h.gatewayEvents.handle(GW, detection('2', t + 5 * MINUTE))
    expect(first).toMatchObject({ ok: true, kind: 'detection', result: { outcome: 'opened' } })
    expect(second).toMatchObject({ ok: true, result: { outcome: 'grouped' } })
    const incidents = (await api('GET', '/ctia/incident/search?query=title:virus')).json()
    expect(incidents).toHaveLength(1)
    expect(incidents[0]).toMatchObject({
      status: 'New',
      severity: 'High',
      source: 'Postern gateway gw-1',
    })

    const changed = await api('PUT', '/api/v1/incidents/auto-policy', {
      detections: ['blocked_user'],
      window_minutes: 15,
    })
    expect(changed.json()).toEqual({ detections: ['blocked_user'], window_minutes: 15 })
    expect(await h.gatewayEvents.handle(GW, detection('3', t + 6 * MINUTE))).toMatchObject({
      ok: true,
      result: { outcome: 'ignored' },
    })
    expect(
      (
        await api('PUT', '/api/v1/incidents/auto-policy', {
          detections: ['meteor'],
          window_minutes: 15,
        })
      ).status,
    ).toBe(400)
    const audited = await h.audit.list({ orgId: 'org-a', action: 'incident.auto_policy.update' })
    expect(audited.total).toBe(1)
  })

  it('goes on in a second casebook linked to the incident when the first is full', async () => {
    await api('PUT', '/api/v1/incidents/auto-policy', { detections: ['virus'], window_minutes: 60 })
    const bigCampaign = (mid: string) => ({
      ...detection(mid, h.clock.now()),
      key: { type: 'sha256', value: 'ef'.repeat(32) },
    })
    const first = await h.gatewayEvents.handle(GW, bigCampaign('big-1'))
    expect(first).toMatchObject({ ok: true, result: { outcome: 'opened' } })
    const { incidentId, casebookId } = (first as { result: AutoIncidentResult }).result
    // Fill the campaign's casebook to its cap of notes (it holds the first message's note).
    const notes = Array.from({ length: CASEBOOK_MAX_TEXTS - 1 }, (_, i) => ({
      type: 'note',
      text: `analyst note ${i}`,
    }))
    const filled = await api('POST', `/ctia/casebook/${casebookId}/texts`, {
      operation: 'add',
      texts: notes,
    })
    expect(filled.status).toBe(200)

    const next = await h.gatewayEvents.handle(GW, bigCampaign('big-2'))
    expect(next).toMatchObject({ ok: true, result: { outcome: 'grouped', incidentId } })
    const nextCasebook = (next as { result: AutoIncidentResult }).result.casebookId
    expect(nextCasebook).not.toBe(casebookId)
    const caller = { kind: 'system', orgId: 'org-a', userId: null, clientId: null } as const
    const linked = await h.incidents.linkedCasebooks(caller, incidentId!)
    expect(linked.map((c) => c.id).sort()).toEqual([casebookId, nextCasebook].sort())
    const part2 = linked.find((c) => c.id === nextCasebook)!
    expect(part2.doc.title).toMatch(/\(part 2\)$/)
    expect(part2.doc.observables).toContainEqual({ type: 'cisco_mid', value: 'big-2' })
    // The next message joins the second casebook, which has room.
    const third = await h.gatewayEvents.handle(GW, bigCampaign('big-3'))
    expect(third).toMatchObject({ result: { outcome: 'grouped', casebookId: nextCasebook } })
  })

  it('feeds message reports to the watchlist for the device org only', async () => {
    await api('POST', '/api/v1/watchlist', {
      observable: { type: 'email', value: 'ceo@spoof.example' },
    })
    const report = {
      kind: 'message_observed',
      at: h.clock.now(),
      message: { mid: '900', direction: 'incoming' },
      observables: [{ type: 'email', value: 'CEO@spoof.example' }],
    }
    expect(onGatewayEvent(h, GW, 'telemetry', report)).toBeNull()
    expect(await onGatewayEvent(h, GW, GATEWAY_EVENT_TOPIC, report)).toEqual({
      ok: true,
      kind: 'message_observed',
      sightings: 1,
    })
    expect(await h.gatewayEvents.handle({ orgId: 'org-b', deviceId: 'gw-9' }, report)).toEqual({
      ok: true,
      kind: 'message_observed',
      sightings: 0,
    })
  })

  it.each([
    ['not an object', 'hello'],
    ['an unknown kind', { kind: 'launch' }],
    ['an unknown detection', { ...detection('1', 0), detection: 'meteor' }],
    ['an unknown observable type', { ...detection('1', 0), key: { type: 'planet', value: 'x' } }],
    ['an extra field claiming another org', { ...detection('1', 0), orgId: 'org-b' }],
    ['a huge subject', { ...detection('1', 0), message: { mid: '1', subject: 'x'.repeat(5000) } }],
  ])('refuses %s without throwing', async (_name, payload) => {
    const outcome = await h.gatewayEvents.handle(GW, payload)
    expect(outcome.ok).toBe(false)
  })
})
