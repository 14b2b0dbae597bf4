import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  launchBrowser,
  skipBrowser,
  tabTo,
  unlabelledControls,
  type Browser,
  type GuardedPage,
} from './support/browser.js'
import { expectPayloadAsText, PAYLOAD_NAME, PAYLOAD_SUBJECT } from './support/hostile.js'
import { hubLogin } from './support/logins.js'
import { startStack, type Stack } from './support/stack.js'

const CAMPAIGN_URL = 'https://bit.ly/3xAmPle'

describe.skipIf(skipBrowser)('the consoles in chromium', () => {
  let stack: Stack
  let browser: Browser
  let gw: GuardedPage
  let hub: GuardedPage

  beforeAll(async () => {
    browser = await launchBrowser()
    stack = await startStack()
    gw = await browser.newPage()
    hub = await browser.newPage()
    await stack.send({
      from: `"${PAYLOAD_NAME}" <mallory@bad.example>`,
      to: ['alice@corp.example'],
      subject: PAYLOAD_SUBJECT,
      text: 'Pay now',
      messageId: '<payload-1@bad.example>',
    })
    await stack.send({
      from: 'Billing <billing@bad.example>',
      to: ['alice@corp.example', 'bob@corp.example'],
      subject: 'Your parcel',
      text: `Track it at ${CAMPAIGN_URL} today`,
      messageId: '<campaign-1@bad.example>',
    })
  }, 180_000)
  afterAll(async () => {
    await browser?.close()
    await stack?.stop()
  })

  it('serves each console and the ribbon script under a strict Content-Security-Policy', async () => {
    for (const base of [stack.hubUrl, stack.gatewayUrl]) {
      const page = await fetch(`${base}/`)
      expect(page.status).toBe(200)
      const csp = page.headers.get('content-security-policy') ?? ''
      expect(csp).toContain("script-src 'self'")
      expect(csp).toContain("object-src 'none'")
      expect(csp).not.toContain('unsafe-inline')
      expect(csp).not.toContain('unsafe-eval')
    }
    const ribbon = await fetch(`${stack.hubUrl}/ribbon.js`)
    expect(ribbon.status).toBe(200)
    expect(ribbon.headers.get('content-type')).toMatch(/javascript/)
    expect(ribbon.headers.get('cross-origin-resource-policy')).toBe('cross-origin')
  })

  it('logs in to the gateway console with the keyboard alone', async () => {
    const { page } = gw
    await page.goto(stack.gatewayUrl)
    await tabTo(page, /^User name/)
    await page.keyboard.type(stack.gatewayAdmin.username)
    await page.keyboard.press('Tab')
    await page.keyboard.type(stack.gatewayAdmin.password)
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Email Reporting' }).waitFor()
    expect(await gw.problems()).toEqual([])
  })

  it('shows hostile subjects and sender names as text in Message Tracking and its detail', async () => {
    const { page } = gw
    await page.goto(`${stack.gatewayUrl}/#/tracking`)
    await page.getByRole('heading', { name: 'Message Tracking' }).waitFor()
    // The tracking writer flushes in the background: search until both messages are there.
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Search', exact: true }).click()
          return page.getByRole('status').filter({ hasText: 'messages' }).innerText()
        },
        { timeout: 30_000, interval: 500 },
      )
      .toBe('2 messages')
    await expectPayloadAsText(gw)
    await gw.screenshot('gateway-tracking')
    await page.getByRole('row').filter({ hasText: 'Invoice' }).getByRole('link').click()
    await page.getByRole('heading', { name: /^Message \d+$/ }).waitFor()
    await page
      .getByRole('list', { name: 'Timeline' })
      .getByText('ACCEPTED', { exact: false })
      .first()
      .waitFor()
    await expectPayloadAsText(gw)
    await gw.screenshot('gateway-message-detail')
  })

  it('searches with the grammar: subject begins with, envelope sender is', async () => {
    const { page } = gw
    await page.goto(`${stack.gatewayUrl}/#/tracking`)
    await page.getByLabel('Subject operator').selectOption('begins_with')
    await page.getByLabel('Subject', { exact: true }).fill('Your par')
    await page.getByRole('button', { name: 'Search', exact: true }).click()
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'messages' }).innerText())
      .toBe('1 messages')
    await page.getByRole('table', { name: 'Messages' }).getByText('Your parcel').waitFor()
    await page.getByLabel('Subject', { exact: true }).fill('')
    await page.getByLabel('Envelope sender', { exact: true }).fill('mallory@bad.example')
    await page.getByRole('button', { name: 'Search', exact: true }).click()
    await page
      .getByRole('table', { name: 'Messages' })
      .getByText('Invoice', { exact: false })
      .waitFor()
    expect(
      await page.getByRole('table', { name: 'Messages' }).getByText('Your parcel').count(),
    ).toBe(0)
  })

  it('reports by verdict with a chart, top lists and the sender→target graph, hostile text as text', async () => {
    const { page } = gw
    await page.goto(`${stack.gatewayUrl}/#/reporting`)
    await page.getByRole('img', { name: 'Incoming messages per time bucket by verdict' }).waitFor()
    await page.locator('.graph canvas').first().waitFor()
    const senders = page.getByRole('table', { name: 'Top senders' })
    await senders.getByText('mallory@bad.example').waitFor()
    await senders.getByText('billing@bad.example').waitFor()
    expect(await gw.problems()).toEqual([])
    await gw.screenshot('gateway-reporting')
  })

  it('opens the pivot menu with the keyboard, moves through it and closes it with Escape', async () => {
    const { page } = gw
    await page.goto(`${stack.gatewayUrl}/#/reporting`)
    await page
      .getByRole('table', { name: 'Top senders' })
      .getByText('billing@bad.example')
      .waitFor()
    await tabTo(page, /^Pivot menu for Email address billing@bad\.example$/, 120)
    await page.keyboard.press('ArrowDown')
    const menu = page.getByRole('menu', { name: 'Email address billing@bad.example' })
    await menu.waitFor()
    const focused = () => page.evaluate(() => document.activeElement?.textContent ?? '')
    expect(await focused()).toBe('Search in Message Tracking')
    await page.keyboard.press('Escape')
    await expect.poll(() => menu.count()).toBe(0)
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(
      'Pivot menu for Email address billing@bad.example',
    )
    await page.keyboard.press('Enter')
    await menu.waitFor()
    await gw.screenshot('pivot-menu-without-hub')
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Message Tracking' }).waitFor()
    await page.getByRole('table', { name: 'Messages' }).getByText('Your parcel').waitFor()
  })

  it('registers the gateway from Cloud Service Settings with a token made in the hub Devices page', async () => {
    await hubLogin(hub.page, stack, stack.hubAdmin)
    await hub.page.getByRole('link', { name: 'Devices' }).click()
    await hub.page.getByLabel('Label').fill('gateway one')
    await hub.page.getByRole('button', { name: 'Create registration token' }).click()
    const token = await hub.page.getByLabel('Registration token', { exact: true }).innerText()
    await hub.screenshot('hub-devices-token')

    const { page } = gw
    await page.goto(`${stack.gatewayUrl}/#/cloud`)
    // Each switch is saved at once and the page shows the state read back from the gateway.
    await page.getByLabel('Cloud services enabled').click()
    await expect.poll(() => page.getByLabel('Cloud services enabled').isChecked()).toBe(true)
    await page.getByLabel('Cloud server').selectOption('nam')
    await expect.poll(() => page.getByLabel('Cloud server').inputValue()).toBe('nam')
    await page.getByLabel('Threat Response').click()
    await expect.poll(() => page.getByLabel('Threat Response').isChecked()).toBe(true)
    await page.getByLabel('Registration token').fill(token)
    await page.getByRole('button', { name: 'Register' }).click()
    await expect
      .poll(() =>
        page.getByRole('table', { name: 'Cloud services status' }).getByRole('status').innerText(),
      )
      .toMatch(/registered|connected/)
    await gw.screenshot('gateway-cloud-settings')
    expect(await gw.problems()).toEqual([])

    await hub.page.reload()
    await hub.page
      .getByRole('table', { name: 'Devices' })
      .getByText('postern-gateway', { exact: false })
      .waitFor()
    expect(await hub.problems()).toEqual([])
  })

  it('logs in to the ribbon with a new API client and enriches from a pivot menu', async () => {
    await hub.page.getByRole('link', { name: 'API clients' }).click()
    await hub.page.getByLabel('Name').fill('gateway ribbon')
    await hub.page.getByRole('button', { name: 'Create API client' }).click()
    const clientId = await hub.page.getByLabel('Client id', { exact: true }).innerText()
    const secret = await hub.page.getByLabel('Client secret', { exact: true }).innerText()
    await hub.screenshot('hub-api-client-created')

    const { page } = gw
    await page.goto(`${stack.gatewayUrl}/#/reporting`)
    await page.getByRole('button', { name: 'Login to use the ribbon' }).click()
    const dialog = page.getByRole('dialog', { name: 'Login to use the ribbon' })
    await dialog.getByLabel('Client ID').fill(clientId)
    await dialog.getByLabel('Client secret').fill(secret)
    await dialog.getByLabel('Hub server').fill(stack.hubUrl)
    await gw.screenshot('gateway-ribbon-login')
    await dialog.getByRole('button', { name: 'Authenticate' }).click()
    await page.getByRole('button', { name: `Ribbon: ${clientId} at ${stack.hubUrl}` }).waitFor()
    expect(await page.content()).not.toContain(secret)

    const ribbon = page.locator('postern-ribbon')
    await ribbon.getByRole('button', { name: 'Expand ribbon' }).click()
    await gw.screenshot('ribbon-expanded')
    await ribbon.getByText('Connected to the hub', { exact: false }).waitFor()

    const senders = page.getByRole('table', { name: 'Top senders' })
    await senders
      .getByRole('button', { name: 'Pivot menu for Email address billing@bad.example' })
      .click()
    const menu = page.getByRole('menu', { name: 'Email address billing@bad.example' })
    await menu.getByRole('menuitem', { name: 'Investigate in hub' }).waitFor()
    await menu.getByRole('menuitem', { name: 'Enrich' }).click()
    await menu.getByLabel('Enrichment summary').getByText('sighting', { exact: false }).waitFor()
    await gw.screenshot('pivot-menu-enriched')
    // A hub without the casebook routes answers the ribbon's active-case look-up with 404.
    const casebooks = (await fetch(`${stack.hubUrl}/casebooks/active`)).status !== 404
    const problems = await gw.problems()
    expect(casebooks ? problems : problems.filter((p) => !p.endsWith('/casebooks/active'))).toEqual(
      [],
    )
  })

  it('investigates a Message-ID in the hub, every observable with its pivot menu, hostile text as text', async () => {
    const { page } = hub
    await page.getByRole('link', { name: 'Investigate' }).click()
    await page
      .getByLabel('Text with observables', { exact: false })
      .fill(`Reported: <payload-1@bad.example> from mallory@bad.example about "${PAYLOAD_SUBJECT}"`)
    await page.getByRole('button', { name: 'Investigate', exact: true }).click()
    await hub.screenshot('hub-investigate')
    await page
      .getByRole('region', { name: 'Message-ID <payload-1@bad.example>', exact: false })
      .waitFor()
    await page
      .getByRole('button', { name: 'Pivot menu for Message-ID <payload-1@bad.example>' })
      .click()
    await page.getByRole('menu').getByRole('menuitem', { name: 'Add to new case' }).waitFor()
    expect(await page.locator('img[src="x"]').count()).toBe(0)
    expect(await hub.problems()).toEqual([])
    await hub.screenshot('hub-investigate')
  })

  it('keeps the ribbon open or closed across page loads', async () => {
    const { page } = gw
    const ribbon = page.locator('postern-ribbon')
    await ribbon.getByRole('button', { name: 'Casebook' }).waitFor()
    await ribbon.getByRole('button', { name: 'Enrich' }).click()
    await ribbon.getByLabel('Observables or text to enrich').waitFor()
    await page.reload()
    await ribbon.getByLabel('Observables or text to enrich').waitFor()
    await ribbon.getByRole('button', { name: 'Collapse ribbon' }).click()
    await page.reload()
    await ribbon.getByRole('button', { name: 'Expand ribbon' }).waitFor()
    expect(await ribbon.getByLabel('Observables or text to enrich').count()).toBe(0)
  })

  it('labels every control of every page', async () => {
    for (const [tab, base, pages] of [
      [gw, stack.gatewayUrl, ['reporting', 'tracking', 'cloud']],
      [hub, stack.hubUrl, ['investigate', 'approvals', 'devices', 'api-clients', 'audit']],
    ] as const) {
      for (const name of pages) {
        await tab.page.goto(`${base}/#/${name}`)
        await tab.page.getByRole('heading', { level: 1 }).waitFor()
        await tab.page
          .locator('postern-ribbon')
          .getByRole('button', { name: /ribbon$/ })
          .waitFor()
        expect(await unlabelledControls(tab.page), `${base} ${name}`).toEqual([])
      }
    }
  })

  it('lists approvals and the audit log', async () => {
    const { page } = hub
    await page.getByRole('link', { name: 'Approvals' }).click()
    await page.getByRole('heading', { name: 'Approvals' }).waitFor()
    await page.getByRole('link', { name: 'Audit log' }).click()
    await page
      .getByRole('table', { name: 'Audit entries' })
      .getByText('oauth', { exact: false })
      .first()
      .waitFor()
    expect(await hub.problems()).toEqual([])
    await hub.screenshot('hub-audit')
  })
})
