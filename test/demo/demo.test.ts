import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startProcess, tempDir, type RunningProcess } from '@postern/testkit'

interface DemoSummary {
  hub: { url: string; console: string; login: { email: string; password: string } }
  gateway: {
    url: string
    console: string
    smtp: string
    login: { username: string; password: string }
    registration: { deviceId: string | null; state: string }
  }
  samples: { label: string; mid: number; status: string; verdicts: string[]; timeline: string[] }[]
  remediation: { url: string; found: number[]; results: { recipient: string; status: string }[] }
  investigate: {
    observables: { type: string; value: string }[]
    recommended: { action: string; observable: string; reason: string }[]
    block: { domain: string; status: string; gateways: string[] }
  }
  intel: {
    casebook: { id: string; title: string; observables: number }
    incidents: { id: string; title: string; status: string }[]
    blockPush: {
      approvalRequired: boolean
      judgement: string
      observable: { type: string; value: string }
      approvalId: string
      status: string
      requestedBy: string
    }
  }
}

// `npm start` runs `postern demo`: this suite runs the built command the same way, on free ports.
describe('postern demo', () => {
  const dir = tempDir('postern-demo-')
  let demo: RunningProcess
  let summary: DemoSummary

  beforeAll(async () => {
    demo = startProcess(process.execPath, [
      'bin/postern.js',
      'demo',
      '--data-dir',
      dir.path,
      '--smtp-port',
      '0',
      '--gateway-port',
      '0',
      '--hub-port',
      '0',
      '--no-traffic',
      '--json',
    ])
    await demo.waitForLine(/Demo ready/, 120_000)
    const output = demo.output()
    summary = JSON.parse(
      output.slice(output.indexOf('{'), output.lastIndexOf('}') + 1),
    ) as DemoSummary
  })
  afterAll(async () => {
    await demo?.stop()
    dir.remove()
  })

  it('delivers clean mail and quarantines the threats, with a timeline for each', () => {
    const byLabel = Object.fromEntries(summary.samples.map((s) => [s.label, s]))
    expect(byLabel['clean newsletter']?.status).toBe('delivered')
    expect(byLabel['credential phishing (deceptive link)']).toMatchObject({ status: 'quarantined' })
    expect(byLabel['credential phishing (deceptive link)']?.verdicts).toContain('deceptive-link')
    expect(byLabel['executable disguised as a PDF']?.status).toBe('quarantined')
    for (const sample of summary.samples) {
      expect(sample.timeline[0]).toMatch(/^CONNECTION/)
      expect(sample.timeline.some((e) => e.startsWith('ACCEPTED'))).toBe(true)
    }
  })

  it('finds the delivered campaign by its URL and deletes it from every mailbox it reached', () => {
    expect(summary.remediation.found).toHaveLength(1)
    expect(summary.remediation.results.map((r) => [r.recipient, r.status]).sort()).toEqual([
      ['alice@example.com', 'done'],
      ['carol@example.com', 'done'],
    ])
  })

  it('inspects a pasted phishing report on the hub and blocks the sender domain on the gateway', () => {
    expect(summary.investigate.observables).toEqual(
      expect.arrayContaining([
        { type: 'url', value: 'https://www.mybank.example/secure/login' },
        { type: 'email_subject', value: 'Unusual sign-in' },
      ]),
    )
    expect(summary.investigate.block).toEqual({
      domain: 'bank-alerts.example',
      status: 'success',
      gateways: ['demo-gateway'],
    })
  })

  it('serves the gateway API with the printed credentials', async () => {
    const login = await fetch(`${summary.gateway.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(summary.gateway.login),
    })
    expect(login.status).toBe(200)
    expect((await fetch(`${summary.gateway.url}/healthz`)).status).toBe(200)
  })

  it('registers the gateway with the hub, which lists it as connected', async () => {
    expect(summary.gateway.registration.state).toBe('connected')
    const login = await fetch(`${summary.hub.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(summary.hub.login),
    })
    expect(login.status).toBe(200)
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ')
    const devices = await fetch(`${summary.hub.url}/api/v1/devices`, { headers: { cookie } })
    expect(devices.status).toBe(200)
    const body = JSON.stringify(await devices.json())
    expect(body).toContain(summary.gateway.registration.deviceId as string)
    expect(body).toContain('connected')
  })

  it("keeps a casebook of the demo's phishing and an incident the demo gateway raised", async () => {
    expect(summary.intel.casebook.observables).toBe(6)
    expect(summary.intel.incidents).toContainEqual(
      expect.objectContaining({
        title: 'Malicious URL in mail: https://bit.ly/3Qx7Bnk',
        status: 'New',
      }),
    )
    // The hub serves both to the printed admin login.
    const login = await fetch(`${summary.hub.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(summary.hub.login),
    })
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ')
    for (const id of [summary.intel.casebook.id, summary.intel.incidents[0]!.id]) {
      const res = await fetch(id, { headers: { cookie } })
      expect(res.status, id).toBe(200)
    }
    const casebook = (await (
      await fetch(summary.intel.casebook.id, { headers: { cookie } })
    ).json()) as { observables: { type: string; value: string }[] }
    expect(casebook.observables).toContainEqual({ type: 'url', value: 'https://bit.ly/3Qx7Bnk' })
  })

  it("keeps an analyst's judgement block push waiting for the admin's approval, as the org's policy asks", async () => {
    expect(summary.intel.blockPush).toMatchObject({
      approvalRequired: true,
      observable: { type: 'email', value: 'shares@docs-share.example' },
      status: 'pending',
      requestedBy: 'analyst@example.com',
    })
    const login = await fetch(`${summary.hub.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(summary.hub.login),
    })
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ')
    const policy = await fetch(`${summary.hub.url}/api/v1/sharing/block-policy`, {
      headers: { cookie },
    })
    expect(await policy.json()).toEqual({ approval_required: true })
    const request = await fetch(
      `${summary.hub.url}/api/v1/approvals/${summary.intel.blockPush.approvalId}`,
      { headers: { cookie } },
    )
    expect(await request.json()).toMatchObject({
      action_id: 'push-judgement-blocks',
      observable: summary.intel.blockPush.observable,
      status: 'pending',
    })
  })

  it('serves both consoles under a Content-Security-Policy', async () => {
    for (const url of [summary.hub.console, summary.gateway.console]) {
      const page = await fetch(url)
      expect(page.status).toBe(200)
      expect(page.headers.get('content-type')).toMatch(/^text\/html/)
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    }
  })

  it('stops cleanly on SIGTERM', async () => {
    await demo.stop()
    expect(await demo.exited).toBe(0)
  })
})
