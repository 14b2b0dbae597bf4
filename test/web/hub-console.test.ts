import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Locator, Request } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SCOPE_CATALOGUE } from '@postern/hub'
import { waitFor } from '@postern/testkit'
import { fetchToken } from '../hub/harness.js'
import { startDovecot, type DovecotServer } from '../support/dovecot.js'
import { startLmtpBridge, type LmtpBridge } from '../support/lmtp-bridge.js'
import { startRelayStub, type RelayStub } from '../support/relay-stub.js'
import { startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.js'
import {
  launchBrowser,
  skipBrowser,
  tabTo,
  unlabelledControls,
  type Browser,
  type GuardedPage,
} from './support/browser.js'
import { gatewayLoginWithRibbon, hubLogin } from './support/logins.js'
import { startStack, type Stack } from './support/stack.js'

/** Markup that would set window.__xss if a page rendered it as HTML. */
const HOSTILE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
const CAMPAIGN_URL = 'https://bit.ly/3xAmPle'
const MESSAGE_ID = '<parcel-1@bad.example>'
const RECIPIENTS = ['alice@corp.example', 'bob@corp.example']
const NOTE = 'Seen by two users; the link leads to a credential phish.'

/** A module setting the hub sends on as a token claim; no quotes, so JSON shows it verbatim. */
const HOSTILE_CLAIM = '<img src=x onerror=window.__xss=5><script>window.__xss=6</script>'
/** `custom_*` values of the relay module made in the console: claims of its token. */
const CLAIMS = { tenant: 'acme-soc', note: HOSTILE_CLAIM }
/** The relay module serves health and observe only. */
const UNUSED_APIS = [
  'deliberate/observables',
  'refer/observables',
  'respond/observables',
  'respond/trigger',
]
/** Relay module forms the console refuses, and what it says to fix. */
const REFUSALS: {
  case: string
  url: string
  uncheck?: string[]
  claim?: string
  message: string
  invalid?: string
}[] = [
  {
    case: 'no URL',
    url: '',
    message: 'Module URL is required: fill it in.',
    invalid: 'Module URL',
  },
  {
    case: 'not a URL',
    url: 'relay.example.com/module',
    message: 'Module URL is not a URL',
    invalid: 'Module URL',
  },
  {
    case: 'a URL with a query',
    url: 'https://relay.example.com/module?tenant=1',
    message: 'Module URL must not carry a query',
    invalid: 'Module URL',
  },
  {
    case: 'no API',
    url: 'https://relay.example.com/module',
    uncheck: ['health', 'observe/observables', ...UNUSED_APIS],
    message: 'Supported APIs: choose at least one API the module serves.',
  },
  {
    case: 'a claim the hub sets',
    url: 'https://relay.example.com/module',
    claim: 'aud',
    message: '"aud" is a claim the hub sets itself; choose another name.',
  },
]

/** The hostile claim is shown as text within `where`, and built no element. */
async function expectClaimAsText(tab: GuardedPage, where: Locator) {
  await where.getByText('<img src=x onerror=window.__xss=5>', { exact: false }).first().waitFor()
  expect(await tab.page.locator('img[src="x"]').count()).toBe(0)
  expect(await tab.page.locator('body script').count()).toBe(0)
  expect(await tab.problems()).toEqual([])
}

/** Waits for a row of `table` with every one of `texts` (a reloaded list, not a toast). */
async function rowWith(table: Locator, ...texts: string[]): Promise<Locator> {
  let row = table.getByRole('row')
  for (const text of texts) row = row.filter({ hasText: text })
  await row.waitFor()
  return row
}

/** Pages whose text a test expects verbatim: React renders it as text, never as markup. */
async function expectHostileAsText(tab: GuardedPage, within = tab.page.locator('body')) {
  await within.getByText('<img src=x onerror="window.__xss=1">', { exact: false }).first().waitFor()
  expect(await tab.page.locator('img[src="x"]').count()).toBe(0)
  expect(await tab.page.locator('body script').count()).toBe(0)
  expect(await tab.problems()).toEqual([])
}

/** A ticket system's webhook endpoint: records what it receives. */
async function startTicketReceiver(): Promise<{ url: string; bodies: unknown[]; server: Server }> {
  const bodies: unknown[] = []
  const server = createServer((request, response) => {
    let text = ''
    request.on('data', (chunk: Buffer) => (text += chunk.toString()))
    request.on('end', () => {
      bodies.push(JSON.parse(text))
      response.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"T-1"}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/tickets`, bodies, server }
}

/**
 * The hub console end to end in chromium: a real hub, a real gateway registered to it through
 * the tunnel, delivering into Dovecot, remediating there and forwarding to a real SMTP server.
 */
describe.skipIf(skipBrowser)('the hub console in chromium', () => {
  let dovecot: DovecotServer
  let bridge: LmtpBridge
  let soc: SmtpCapture
  let stack: Stack
  let browser: Browser
  let hub: GuardedPage
  let gw: GuardedPage
  let token: string
  let receiver: Awaited<ReturnType<typeof startTicketReceiver>>
  let relay: RelayStub

  /** The hub's API as the test's own client (all scopes). */
  async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${stack.hubUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    expect(response.status, `${method} ${path}`).toBeLessThan(300)
    return (await response.json()) as T
  }

  /**
   * The hub calls module instance `id` (its health route) with a configuration token the relay
   * module verifies against the hub's JWKS; the token carries `claims`.
   */
  async function expectTokenClaims(id: string, claims: Record<string, unknown>) {
    const health = await api<{ data: { data: { status: string } } | null; errors: unknown[] }>(
      'POST',
      `/iroh/iroh-enrich/health/${id}`,
    )
    expect(health).toMatchObject({ data: { data: { status: 'ok' } }, errors: [] })
    expect(relay.calls).toContainEqual({
      path: '/health',
      claims: expect.objectContaining({ sub: id, ...claims }),
    })
  }

  beforeAll(async () => {
    browser = await launchBrowser()
    ;[dovecot, soc, receiver] = await Promise.all([
      startDovecot({ users: RECIPIENTS }),
      startSmtpCapture(),
      startTicketReceiver(),
    ])
    bridge = await startLmtpBridge({ host: dovecot.host, port: dovecot.lmtpPort })
    stack = await startStack({
      gateway: {
        smtpRoutes: [{ domain: 'corp.example', to: [`127.0.0.1:${bridge.port}`], tls: 'none' }],
        pipeline: { scanners: { builtin: { phishing: { enabled: false } } } },
        remediation: {
          forward: { address: 'soc@example.org', from: 'postern@gateway.example' },
          relay: { host: soc.host, port: soc.port, security: 'none' },
          retryBackoffMs: 10,
        },
      },
    })
    const admin = await stack.hub.admin.createApiClient({
      name: 'test',
      scopes: SCOPE_CATALOGUE,
    })
    token = await fetchToken(stack.hub, admin.client.id, admin.secret)

    // The gateway registers with a token from the hub and serves its relay module through the
    // tunnel; the hub's "Gateways" module asks for approval before blocking.
    const gateway = stack.gateway
    // One switch at a time, as the Cloud Service Settings page saves them.
    for (const change of [{ enabled: true }, { server: 'nam' }, { threatResponse: true }]) {
      const changed = await gateway.api('PATCH', '/api/v1/cloud/settings', change)
      expect(changed.status, JSON.stringify(changed.body)).toBe(200)
    }
    const registration = await stack.hub.admin.createRegistrationToken({})
    expect(
      (await gateway.api('POST', '/api/v1/cloud/register', { token: registration.token })).status,
    ).toBe(200)
    // Usage telemetry can be switched on once registered.
    expect((await gateway.api('PATCH', '/api/v1/cloud/settings', { telemetry: true })).status).toBe(
      200,
    )
    await waitFor(
      async () =>
        (await api<{ items: { status: string }[] }>('GET', '/api/v1/devices')).items.some(
          (d) => d.status === 'connected',
        ),
      { what: 'the gateway tunnel', timeoutMs: 20_000 },
    )
    expect(
      (
        await gateway.api(
          'POST',
          '/api/v1/remediation/profiles',
          dovecot.imapProfile('dovecot', ['corp.example']),
        )
      ).status,
    ).toBe(201)
    await api('POST', '/iroh/iroh-int/module-instance', {
      name: 'Gateways',
      module_type_id: 'postern-email-gateway',
      settings: { devices: 'all', approval_required: ['block'] },
    })

    await stack.send({
      from: 'Billing <billing@bad.example>',
      to: RECIPIENTS,
      subject: 'Your parcel',
      text: `Track it at ${CAMPAIGN_URL} today`,
      messageId: MESSAGE_ID,
    })
    for (const user of RECIPIENTS) {
      await waitFor(
        async () =>
          Object.values(await dovecot.messageIdsByFolder(user))
            .flat()
            .includes(MESSAGE_ID),
        { what: `delivery to ${user}`, timeoutMs: 30_000 },
      )
    }
    // A relay module of its own (an HTTP server verifying the hub's tokens) for the Modules page.
    relay = await startRelayStub(stack.hubUrl, { name: 'Intel' })
    hub = await browser.newPage()
    gw = await browser.newPage()
  }, 240_000)

  afterAll(async () => {
    await browser?.close()
    await stack?.stop()
    await Promise.all([bridge?.close(), soc?.close(), relay?.close()])
    await new Promise((resolve) => receiver?.server.close(resolve))
    await dovecot?.stop()
  })

  it('pivots on a bit.ly URL → add to new case → opens the case in the ribbon → adds a note', async () => {
    const { page } = hub
    await hubLogin(page, stack, stack.hubAdmin)
    await page
      .getByLabel('Text with observables', { exact: false })
      .fill(`Customers report ${CAMPAIGN_URL} in a parcel notice`)
    await page.getByRole('button', { name: 'Investigate', exact: true }).click()
    await page.getByRole('button', { name: `Pivot menu for URL ${CAMPAIGN_URL}` }).click()
    const menu = page.getByRole('menu', { name: `URL ${CAMPAIGN_URL}` })
    await menu.getByRole('menuitem', { name: 'Add to new case' }).click()
    await menu.getByRole('status').filter({ hasText: 'is the active case' }).waitFor()
    await hub.screenshot('hub-pivot-new-case')
    await page.keyboard.press('Escape')

    const ribbon = page.locator('postern-ribbon')
    await ribbon.getByRole('button', { name: 'Casebook' }).click()
    await ribbon.getByRole('button', { name: `URL ${CAMPAIGN_URL}` }).click()
    await ribbon.getByRole('textbox', { name: 'Note', exact: true }).fill(NOTE)
    await ribbon.getByRole('button', { name: 'Add note' }).click()
    await ribbon.getByRole('list', { name: 'Notes' }).getByText(NOTE).waitFor()
    await hub.screenshot('ribbon-casebook-note')

    const active = await api<{ casebook: { title: string; texts: { text: string }[] } }>(
      'GET',
      '/api/v1/casebooks/active',
    )
    // The test's client is owned by the admin, whose active case the pivot menu set.
    expect(active.casebook.title).toBe(`URL ${CAMPAIGN_URL}`)
    expect(active.casebook.texts.map((t) => t.text)).toEqual([NOTE])
    expect(await hub.problems()).toEqual([])
  })

  it('keeps the ribbon state (open, app, open case) across page loads and into the gateway console', async () => {
    const ribbon = hub.page.locator('postern-ribbon')
    await hub.page.reload()
    await ribbon.getByRole('list', { name: 'Notes' }).getByText(NOTE).waitFor()

    // The ribbon on the gateway logs in with an API client the same hub user owns.
    const client = await api<{ clientId: string; clientSecret: string }>(
      'POST',
      '/api/v1/api-clients',
      {
        name: 'gateway ribbon',
        scopes: [
          'casebook',
          'enrich:read',
          'inspect:read',
          'profile',
          'response',
          'private-intel',
          'integration:read',
        ],
      },
    )
    const { page } = gw
    await gatewayLoginWithRibbon(page, stack, client)
    const gwRibbon = page.locator('postern-ribbon')
    await gwRibbon.getByRole('list', { name: 'Notes' }).getByText(NOTE).waitFor()
    await gw.screenshot('gateway-ribbon-same-case')

    // Collapsed on the gateway: the hub console opens with it collapsed too.
    await gwRibbon.getByRole('button', { name: 'Collapse ribbon' }).click()
    await expect
      .poll(
        async () =>
          (await api<{ expanded: boolean }>('GET', '/api/v1/preferences/ribbon')).expanded,
      )
      .toBe(false)
    await hub.page.reload()
    await ribbon.getByRole('button', { name: 'Expand ribbon' }).waitFor()
    expect(await ribbon.getByRole('list', { name: 'Notes' }).count()).toBe(0)
    expect(await gw.problems()).toEqual([])
  })

  it('investigates a Message-ID and forwards and deletes it: results per recipient', async () => {
    const { page } = hub
    await page.goto(`${stack.hubUrl}/#/investigate`)
    await page
      .getByLabel('Text with observables', { exact: false })
      .fill(`Message-ID: ${MESSAGE_ID}`)
    await page.getByRole('button', { name: 'Investigate', exact: true }).click()
    const card = page.getByRole('region', { name: `Message-ID ${MESSAGE_ID}` })
    await card.getByRole('button', { name: 'Forward and delete (Gateways)' }).click()
    const results = card.getByRole('table', { name: 'Action results' })
    for (const user of RECIPIENTS)
      await results.getByRole('row').filter({ hasText: user }).waitFor()
    await hub.screenshot('hub-forward-and-delete')
    for (const user of RECIPIENTS) {
      expect(Object.values(await dovecot.messageIdsByFolder(user)).flat()).not.toContain(MESSAGE_ID)
    }
    expect(soc.messages.filter((m) => m.raw.toString().includes(MESSAGE_ID))).toHaveLength(2)
    expect(await hub.problems()).toEqual([])
  })

  it('requests a block that waits for approval, which a second user gives in the Approvals page', async () => {
    const { page } = hub
    await page.goto(`${stack.hubUrl}/#/investigate`)
    await page
      .getByLabel('Text with observables', { exact: false })
      .fill('Sender domain bad-parcels.com')
    await page.getByRole('button', { name: 'Investigate', exact: true }).click()
    const card = page.getByRole('region', { name: 'Domain bad-parcels.com' })
    await card.getByRole('button', { name: /^Block .*\(Gateways\)$/ }).click()
    await card.getByText('Pending approval until', { exact: false }).waitFor()
    // The pivot menu shows the action's approval state.
    await card.getByRole('button', { name: 'Pivot menu for Domain bad-parcels.com' }).click()
    await page
      .getByRole('menu', { name: 'Domain bad-parcels.com' })
      .getByRole('menuitem', { name: /^Block .*\(Gateways\) — waiting for approval$/ })
      .waitFor()
    await hub.screenshot('pivot-waiting-for-approval')
    await page.keyboard.press('Escape')

    await page.getByRole('button', { name: 'Log out' }).click()
    await page.getByLabel('Email').fill(stack.hubAnalyst.email)
    await page.getByLabel('Password').fill(stack.hubAnalyst.password)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('link', { name: 'Approvals' }).click()
    await page.getByRole('button', { name: 'Approve block on bad-parcels.com' }).click()
    await page
      .getByRole('table', { name: 'Action requests' })
      .getByText(`approved by`, { exact: false })
      .waitFor()
    await hub.screenshot('hub-approval-approved')
    const decided = await api<{
      items: { status: string; result: { data?: { status: string } } }[]
    }>('GET', '/api/v1/approvals?status=approved')
    expect(decided.items.map((a) => [a.status, a.result.data?.status])).toEqual([
      ['approved', 'success'],
    ])
    const held = await stack.gateway.api<{ entries: { kind: string; value: string }[] }>(
      'GET',
      '/api/v1/blocklists?search=bad-parcels.com',
    )
    expect(held.status).toBe(200)
    expect(held.body.entries.map((e) => e.value)).toContain('bad-parcels.com')
    expect(await hub.problems()).toEqual([])
  })

  it('edits casebooks and incidents; hostile titles, notes and descriptions show as text', async () => {
    const { page } = hub
    await page.getByRole('link', { name: 'Casebooks' }).click()
    await page.getByLabel('Title of the new casebook').fill(`Case ${HOSTILE}`)
    await page.getByRole('button', { name: 'Create casebook' }).click()
    await page.getByRole('heading', { name: /^Casebook: Case / }).waitFor()
    await page.getByRole('textbox', { name: 'Description', exact: true }).fill(`About ${HOSTILE}`)
    await page.getByRole('button', { name: 'Save title and description' }).click()
    await page.locator('.description').getByText('About', { exact: false }).waitFor()
    await page.getByRole('textbox', { name: 'Note', exact: true }).fill(`Note ${HOSTILE}`)
    await page.getByRole('button', { name: 'Add note' }).click()
    await page
      .getByRole('list', { name: 'Notes' })
      .getByText('Note <img', { exact: false })
      .waitFor()
    await page.getByLabel('Observable type').selectOption('domain')
    await page.getByLabel('Observable value').fill('bad-parcels.com')
    await page.getByRole('button', { name: 'Add observable' }).click()
    await page.getByRole('button', { name: 'Pivot menu for Domain bad-parcels.com' }).waitFor()
    await page.getByRole('button', { name: 'Set as active case' }).click()
    await page.getByRole('status').filter({ hasText: 'active case' }).waitFor()
    await page.getByRole('button', { name: 'Export STIX 2.1' }).click()
    await page.getByRole('link', { name: /^Download .*\.stix\.json$/ }).waitFor()
    await page.getByRole('button', { name: 'Block on every gateway' }).click()
    await page
      .getByRole('table', { name: 'Block results per gateway' })
      .getByText('ok', { exact: false })
      .waitFor()
    await expectHostileAsText(hub)
    await hub.screenshot('hub-casebook-hostile')

    await page.getByRole('link', { name: 'Incidents' }).click()
    await page.getByLabel('Title of the new incident').fill(`Incident ${HOSTILE}`)
    await page.getByRole('button', { name: 'Create incident' }).click()
    await page.getByRole('heading', { name: /^Incident: Incident / }).waitFor()
    await page.getByLabel('New status').selectOption('Open: Investigating')
    await page.getByRole('button', { name: 'Change status' }).click()
    await page.getByRole('table', { name: 'Incident' }).getByText('Open: Investigating').waitFor()
    await page.getByLabel('Assignees (separated by commas)').fill('analyst@example.com')
    await page.getByRole('button', { name: 'Save assignees' }).click()
    await page.getByRole('table', { name: 'Incident' }).getByText('analyst@example.com').waitFor()
    await page
      .getByRole('combobox', { name: /^Casebook/ })
      .selectOption({ label: `Case ${HOSTILE}` })
    await page.getByRole('button', { name: 'Link casebook' }).click()
    await page.getByRole('status').filter({ hasText: 'Casebook linked' }).waitFor()
    await expectHostileAsText(hub)
    await hub.screenshot('hub-incident-hostile')

    await page.getByRole('link', { name: 'All incidents' }).click()
    await page.getByLabel('Status').selectOption('Open: Investigating')
    await expectHostileAsText(hub, page.getByRole('table', { name: 'Incidents' }))
    const incidents = await api<{ title: string; status: string; assignees: string[] }[]>(
      'GET',
      '/ctia/incident/search?status=Open%3A%20Investigating',
    )
    expect(incidents.map((i) => [i.title, i.status, i.assignees])).toEqual([
      [`Incident ${HOSTILE}`, 'Open: Investigating', ['analyst@example.com']],
    ])

    // The ribbon's Casebook app and Incidents app show the same text as text.
    const ribbon = page.locator('postern-ribbon')
    await ribbon.getByRole('button', { name: 'Casebook' }).click()
    await ribbon.getByRole('button', { name: 'Back to casebooks' }).click()
    await expectHostileAsText(hub, ribbon)
    await ribbon.getByRole('button', { name: 'Incidents' }).click()
    await expectHostileAsText(hub, ribbon)
  })

  it('saves the incident policy and a ticket integration, and files a ticket on a casebook', async () => {
    const { page } = hub
    await page.getByRole('link', { name: 'Settings' }).click()
    await page.getByLabel('A sender blocked for outbound spam').check()
    await page.getByLabel('Grouping window (minutes)').fill('30')
    await page.getByRole('button', { name: 'Save incident policy' }).click()
    await page.getByRole('status').filter({ hasText: 'Incident policy saved' }).waitFor()
    expect(await api('GET', '/api/v1/incidents/auto-policy')).toEqual({
      detections: ['virus', 'malicious_url', 'retro_remediation', 'blocked_user'],
      window_minutes: 30,
    })
    await page.getByLabel('Integration name', { exact: true }).fill('IT desk')
    await page.getByLabel('Webhook URL').fill(receiver.url)
    await page.getByLabel('Signing secret', { exact: false }).fill('a webhook signing secret')
    await page.getByRole('button', { name: 'Add webhook integration' }).click()
    await page.getByRole('table', { name: 'Ticket integrations' }).getByText('IT desk').waitFor()
    expect(await page.content()).not.toContain('a webhook signing secret')
    await page.getByLabel('E-mail integration name').fill('IT desk mail')
    await page.getByLabel('SMTP server').fill(soc.host)
    await page.getByLabel('SMTP port').fill(String(soc.port))
    await page.getByLabel('SMTP security').selectOption('none')
    await page.getByLabel('From address').fill('postern-hub@example.org')
    await page.getByLabel('To addresses (comma-separated)').fill('it-desk@example.org')
    await page.getByRole('button', { name: 'Add e-mail integration' }).click()
    await page
      .getByRole('table', { name: 'Ticket integrations' })
      .getByRole('row')
      .filter({ hasText: 'IT desk mail' })
      .filter({ hasText: 'it-desk@example.org' })
      .waitFor()

    await page.getByRole('link', { name: 'Casebooks' }).click()
    await page
      .getByRole('table', { name: 'Casebooks' })
      .getByRole('link', { name: `URL ${CAMPAIGN_URL}` })
      .click()
    await page.getByRole('button', { name: 'Create ticket' }).click()
    await page
      .getByRole('status')
      .filter({ hasText: /^Ticket .*: sent/ })
      .waitFor()
    expect(receiver.bodies).toEqual([
      expect.objectContaining({ title: `Casebook: URL ${CAMPAIGN_URL}`, subject_type: 'casebook' }),
    ])
    // The same casebook to the IT desk by e-mail, through the real SMTP server: two tickets.
    await page.getByLabel('Ticket integration').selectOption({ label: 'IT desk mail (email)' })
    await page.getByRole('button', { name: 'Create ticket' }).click()
    const mailed = await waitFor(() =>
      soc.messages.find((m) => m.to.includes('it-desk@example.org')),
    )
    expect(mailed.parsed.subject).toContain(`Casebook: URL ${CAMPAIGN_URL}`)
    await page.getByRole('link', { name: 'Tickets' }).click()
    await page
      .getByRole('table', { name: 'Tickets' })
      .getByRole('row')
      .filter({ hasText: `Casebook: URL ${CAMPAIGN_URL}` })
      .filter({ hasText: 'sent' })
      .nth(1)
      .waitFor()
    expect(await hub.problems()).toEqual([])
  })

  it('edits the email gateway module with its form: name, gateways, forward address, approvals', async () => {
    const { page } = hub
    await page.getByRole('link', { name: 'Modules' }).click()
    const table = page.getByRole('table', { name: 'Module instances' })
    const [gateway] = await api<{ id: string }[]>(
      'GET',
      '/iroh/iroh-int/module-instance?module_type_id=postern-email-gateway',
    )
    const [device] = (
      await api<{ items: { id: string; name: string }[] }>('GET', '/api/v1/devices')
    ).items
    await table.getByRole('button', { name: 'Edit Gateways' }).click()
    const edit = page.getByRole('region', { name: 'Edit module Gateways' })
    await edit.getByLabel('Module name').fill('Mail gateways')
    const gateways = edit.getByRole('group', { name: 'Gateways' })
    await gateways.getByLabel('All gateways of the organisation', { exact: false }).uncheck()
    await gateways.getByLabel(device!.name, { exact: false }).check()
    await edit.getByLabel('Forward remediated messages to').fill('soc-mailbox@corp.example')
    const approvals = edit.getByRole('group', { name: 'Actions that need approval' })
    // The form starts from the stored settings: block needed approval (beforeAll).
    expect(await approvals.getByLabel('block', { exact: true }).isChecked()).toBe(true)
    await approvals.getByLabel('block', { exact: true }).uncheck()
    for (const action of ['forward', 'forward-and-delete'])
      await approvals.getByLabel(action, { exact: true }).check()
    await hub.screenshot('hub-modules-edit-gateway')
    await edit.getByRole('button', { name: 'Save module' }).click()
    // The "saved" status comes before the list's reload: wait for the reloaded row.
    await rowWith(table, 'Mail gateways', 'soc-mailbox@corp.example')
    expect(
      await api<{ name: string; settings: unknown }>(
        'GET',
        `/iroh/iroh-int/module-instance/${gateway!.id}`,
      ),
    ).toMatchObject({
      name: 'Mail gateways',
      settings: {
        devices: [device!.id],
        remediation_forward_address: 'soc-mailbox@corp.example',
        approval_required: ['forward', 'forward-and-delete'],
      },
    })

    await table.getByRole('button', { name: 'Disable Mail gateways' }).click()
    await rowWith(table, 'Mail gateways', 'disabled')
    await table.getByRole('button', { name: 'Enable Mail gateways' }).click()
    await rowWith(table, 'Mail gateways', 'enabled')
    expect(
      await api<{ enabled: boolean }>('GET', `/iroh/iroh-int/module-instance/${gateway!.id}`),
    ).toMatchObject({ enabled: true })
    expect(await hub.problems()).toEqual([])
  })

  it('creates a relay module with its form; the hub’s configuration token carries its custom values', async () => {
    const { page } = hub
    await page.goto(`${stack.hubUrl}/#/modules`)
    const form = page.getByRole('form', { name: 'New module instance' })
    await form.getByLabel('Module name').fill('Intel relay')
    await form.getByLabel('Module type').selectOption({ label: 'Relay module' })
    await form.getByLabel('Module URL').fill(relay.url)
    const apis = form.getByRole('group', { name: 'Supported APIs' })
    for (const name of UNUSED_APIS) await apis.getByLabel(name, { exact: true }).uncheck()
    const claims = form.getByRole('group', { name: 'Values passed to the module as token claims' })
    for (const [index, [name, value]] of Object.entries(CLAIMS).entries()) {
      await claims.getByRole('button', { name: 'Add a value' }).click()
      await claims.getByLabel(`Name (row ${index + 1})`).fill(name)
      await claims.getByLabel(`Value (row ${index + 1})`).fill(value)
    }
    await hub.screenshot('hub-modules-new-relay')
    await form.getByRole('button', { name: 'Create module instance' }).click()
    const table = page.getByRole('table', { name: 'Module instances' })
    const row = await rowWith(table, 'Intel relay')
    await expectClaimAsText(hub, row)

    const [created] = await api<{ id: string; name: string }[]>(
      'GET',
      '/iroh/iroh-int/module-instance?module_type_id=relay',
    )
    const stored = await api<{ name: string; enabled: boolean; settings: unknown }>(
      'GET',
      `/iroh/iroh-int/module-instance/${created!.id}`,
    )
    expect(stored).toMatchObject({ name: 'Intel relay', enabled: true })
    expect(stored.settings).toEqual({
      url: relay.url,
      supported_apis: ['health', 'observe/observables'],
      custom_tenant: CLAIMS.tenant,
      custom_note: CLAIMS.note,
    })

    // The hub calls the module with a configuration token; the module verifies it (JWKS).
    await expectTokenClaims(created!.id, { aud: relay.url, ...CLAIMS })

    // The edit form shows the stored values, the hostile one as an input's value.
    await table.getByRole('button', { name: 'Edit Intel relay' }).click()
    const edit = page.getByRole('region', { name: 'Edit module Intel relay' })
    expect(await edit.getByLabel('Module URL').inputValue()).toBe(relay.url)
    expect(await edit.getByLabel('Value (row 2)').inputValue()).toBe(CLAIMS.note)
    await expectClaimAsText(hub, page.locator('body'))
  })

  it('refuses a relay module form that is not complete and says what to fix; nothing is saved', async () => {
    const { page } = hub
    const posts: string[] = []
    const onRequest = (request: Request) => {
      if (request.method() === 'POST' && request.url().includes('/module-instance'))
        posts.push(request.url())
    }
    page.on('request', onRequest)
    for (const refusal of REFUSALS) {
      await page.reload()
      const form = page.getByRole('form', { name: 'New module instance' })
      await form.getByLabel('Module name').fill('Refused relay')
      await form.getByLabel('Module type').selectOption({ label: 'Relay module' })
      await form.getByLabel('Module URL').fill(refusal.url)
      for (const name of refusal.uncheck ?? [])
        await form
          .getByRole('group', { name: 'Supported APIs' })
          .getByLabel(name, { exact: true })
          .uncheck()
      if (refusal.claim) {
        const claims = form.getByRole('group', { name: 'Values passed to the module' })
        await claims.getByRole('button', { name: 'Add a value' }).click()
        await claims.getByLabel('Name (row 1)').fill(refusal.claim)
        await claims.getByLabel('Value (row 1)').fill('x')
      }
      await form.getByRole('button', { name: 'Create module instance' }).click()
      await form.getByRole('alert').filter({ hasText: refusal.message }).waitFor()
      if (refusal.invalid)
        expect(
          await form.getByLabel(refusal.invalid).getAttribute('aria-invalid'),
          refusal.case,
        ).toBe('true')
    }
    page.off('request', onRequest)
    expect(posts).toEqual([])
    const names = (await api<{ name: string }[]>('GET', '/iroh/iroh-int/module-instance')).map(
      (m) => m.name,
    )
    expect(names).not.toContain('Refused relay')
    expect(await hub.problems()).toEqual([])
  })

  it('edits an organisation-defined module: a kept secret, a number, a switch and JSON for the rest', async () => {
    const type = await api<{ id: string }>('POST', '/iroh/iroh-int/module-type', {
      name: 'Threat feed',
      properties: { url: relay.url, 'supported-apis': ['health', 'observe/observables'] },
      configuration_spec: [
        { key: 'custom_key', type: 'api_key', label: 'API key', required: true },
        { key: 'custom_limit', type: 'integer', label: 'Entities limit', required: false },
        { key: 'custom_verbose', type: 'boolean', label: 'Verbose answers', required: false },
      ],
    })
    const feed = await api<{ id: string }>('POST', '/iroh/iroh-int/module-instance', {
      name: 'Feed',
      module_type_id: type.id,
      settings: {
        custom_key: 'feed-api-key',
        custom_limit: 100,
        custom_verbose: false,
        custom_region: 'eu',
      },
    })
    const { page } = hub
    await page.reload()
    const table = page.getByRole('table', { name: 'Module instances' })
    await table.getByRole('button', { name: 'Edit Feed' }).click()
    const edit = page.getByRole('region', { name: 'Edit module Feed' })
    const key = edit.getByLabel('API key')
    // The secret came back masked: the field is empty and says it stays unchanged.
    expect(await key.getAttribute('type')).toBe('password')
    expect(await key.getAttribute('placeholder')).toBe('unchanged')
    expect(await key.inputValue()).toBe('')
    expect(await edit.getByLabel('Entities limit').getAttribute('type')).toBe('number')
    await edit.getByLabel('Entities limit').fill('50')
    await edit.getByLabel('Verbose answers').check()
    // custom_region is in no spec entry: it waits in the JSON editor and is sent back as it was.
    const json = edit.getByLabel('Settings the form does not describe (JSON object)')
    expect(JSON.parse(await json.inputValue())).toEqual({ custom_region: 'eu' })
    await edit.getByRole('button', { name: 'Save module' }).click()
    await rowWith(table, 'Feed', '"custom_limit":50')
    expect(
      (await api<{ settings: unknown }>('GET', `/iroh/iroh-int/module-instance/${feed.id}`))
        .settings,
    ).toEqual({
      custom_key: '*****',
      custom_limit: 50,
      custom_verbose: true,
      custom_region: 'eu',
    })
    // The stored secret was kept: the module gets it as the claim `key`.
    await expectTokenClaims(feed.id, {
      key: 'feed-api-key',
      limit: 50,
      verbose: true,
      region: 'eu',
    })
    expect(await hub.problems()).toEqual([])
  })

  it('charts a device’s telemetry', async () => {
    const { page } = hub
    // The gateway sends usage telemetry once it is connected with telemetry switched on.
    const [device] = (await api<{ items: { id: string }[] }>('GET', '/api/v1/devices')).items
    await expect
      .poll(
        async () =>
          (await api<{ items: unknown[] }>('GET', `/api/v1/devices/${device!.id}/telemetry`)).items
            .length,
        { timeout: 30_000 },
      )
      .toBeGreaterThan(0)
    await page.getByRole('link', { name: 'Telemetry' }).click()
    await page.getByRole('img', { name: 'Enabled and disabled features per report' }).waitFor()
    await page
      .getByRole('table', { name: 'Features of the latest report' })
      .getByRole('row')
      .nth(1)
      .waitFor()
    await hub.screenshot('hub-telemetry')
    expect(await hub.problems()).toEqual([])
  })

  it('creates an incident and changes its status with the keyboard alone', async () => {
    const { page } = hub
    await page.goto(`${stack.hubUrl}/#/incidents`)
    await page.getByRole('heading', { name: 'Incidents' }).waitFor()
    await tabTo(page, /^Title of the new incident/)
    await page.keyboard.type('Typed without a mouse')
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Incident: Typed without a mouse' }).waitFor()
    await tabTo(page, /^New status/)
    // On a closed select, ArrowDown picks the next option (New → New: Processing).
    await page.keyboard.press('ArrowDown')
    await tabTo(page, /^Change status$/)
    await page.keyboard.press('Enter')
    await page.getByRole('table', { name: 'Incident' }).getByText('New: Processing').waitFor()
    expect(await hub.problems()).toEqual([])
  })

  it('labels every control of every hub page', async () => {
    const { page } = hub
    for (const name of [
      'investigate',
      'casebooks',
      'incidents',
      'approvals',
      'tickets',
      'devices',
      'telemetry',
      'modules',
      'api-clients',
      'audit',
      'settings',
    ]) {
      await page.goto(`${stack.hubUrl}/#/${name}`)
      await page.getByRole('heading', { level: 1 }).waitFor()
      await page
        .locator('postern-ribbon')
        .getByRole('button', { name: /ribbon$/ })
        .waitFor()
      expect(await unlabelledControls(page), name).toEqual([])
    }
  })
})
