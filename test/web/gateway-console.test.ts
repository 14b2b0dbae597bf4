import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '@postern/testkit'
import { startDovecot, type DovecotServer } from '../support/dovecot.js'
import { startLmtpBridge, type LmtpBridge } from '../support/lmtp-bridge.js'
import { startSmtpCapture, type SmtpCapture } from '../support/smtp-capture.js'
import {
  launchBrowser,
  skipBrowser,
  tabTo,
  unlabelledControls,
  type Browser,
  type GuardedPage,
} from './support/browser.js'
import { expectPayloadAsText, PAYLOAD_NAME, PAYLOAD_SUBJECT } from './support/hostile.js'
import { startStack, type Stack } from './support/stack.js'

/** More places for markup: a file name and the text of a message. */
const PAYLOAD_FILE = '<img src=x onerror="window.__xss=5">.pdf'
const PAYLOAD_TEXT =
  'Pay now <script>window.__xss=6</script> <b onmouseover="window.__xss=7">here</b>'
const USERS = ['alice@corp.example', 'bob@corp.example']
const MASTER_PASSWORD_LABEL = 'Master password'

/**
 * The refusals the tests provoke on purpose: a wrong policy, a value that is no domain, usage
 * telemetry switched on before the gateway is registered.
 */
const PROVOKED = [
  'http 400 PUT /api/v1/policies',
  'http 400 POST /api/v1/blocklists',
  'http 409 PATCH /api/v1/cloud/settings',
]

/** Script errors, CSP violations, failed requests… other than the provoked refusals. */
async function problems(tab: GuardedPage): Promise<string[]> {
  return (await tab.problems()).filter((p) => !PROVOKED.includes(p))
}

const expectAsText = (tab: GuardedPage) => expectPayloadAsText(tab, problems)

/** Polls an action until the page shows what it should (the tracking writer flushes later). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  await expect.poll(check, { timeout: 90_000, interval: 500, message: what }).toBe(true)
}

async function open(page: Page, stack: Stack, route: string, heading: string): Promise<void> {
  await page.goto(`${stack.gatewayUrl}/#/${route}`)
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor()
}

/**
 * The gateway console's operator pages in chromium against a real gateway: mail goes in over
 * SMTP, is delivered into a real Dovecot (LMTP) for remediation, or deferred to a closed port
 * for the hold queue; hostile subjects, sender names, file names and text are shown as text
 * everywhere, and every page's controls are labelled.
 */
// The content pipeline takes seconds per message on a busy 2-core machine: generous waits.
describe.skipIf(skipBrowser)('the gateway console pages in chromium', { timeout: 150_000 }, () => {
  let dovecot: DovecotServer
  let bridge: LmtpBridge
  let soc: SmtpCapture
  let stack: Stack
  let browser: Browser
  let gw: GuardedPage
  const profileResponses: string[] = []

  const sendHostile = (to: string[], messageId: string, headers: Record<string, string> = {}) =>
    stack.send({
      from: `"${PAYLOAD_NAME}" <mallory@bad.example>`,
      to,
      subject: PAYLOAD_SUBJECT,
      text: PAYLOAD_TEXT,
      messageId,
      headers,
      attachments: [{ filename: PAYLOAD_FILE, content: 'not really a pdf' }],
    })

  beforeAll(async () => {
    ;[dovecot, soc, browser] = await Promise.all([
      startDovecot({ users: USERS }),
      startSmtpCapture(),
      launchBrowser(),
    ])
    bridge = await startLmtpBridge({ host: dovecot.host, port: dovecot.lmtpPort })
    stack = await startStack({
      gateway: {
        listeners: [
          {
            name: 'inbound',
            smtp: '127.0.0.1:0',
            rat: [
              { recipient: 'corp.example', action: 'ACCEPT' },
              { recipient: 'slow.example', action: 'ACCEPT' },
            ],
          },
        ],
        // corp.example lives in Dovecot; nothing listens for anything else: it stays deferred.
        smtpRoutes: [
          { domain: 'corp.example', to: [`127.0.0.1:${bridge.port}`], tls: 'none' },
          { domain: '*', to: ['127.0.0.1:9'] },
        ],
        queue: { retry: { initialDelay: '1h', maxDelay: '1h' } },
        remediation: {
          forward: { address: 'soc@corp.example', from: 'postern@gw.test' },
          relay: { host: soc.host, port: soc.port, security: 'none' },
        },
      },
    })
    gw = await browser.newPage()
    gw.page.on('response', (response) => {
      if (new URL(response.url()).pathname.startsWith('/api/v1/remediation/profiles')) {
        void response.text().then(
          (body) => profileResponses.push(body),
          () => undefined,
        )
      }
    })
    await stack.send({
      from: 'Billing <billing@bad.example>',
      to: USERS,
      subject: 'Your parcel',
      text: 'Track it at https://bit.ly/3xAmPle today',
      messageId: '<campaign-1@bad.example>',
    })
    await sendHostile(['dave@slow.example'], '<slow-1@bad.example>')
    await sendHostile(['erin@slow.example'], '<slow-2@bad.example>')
  }, 180_000)
  afterAll(async () => {
    await browser?.close()
    await stack?.stop()
    await Promise.all([bridge?.close(), soc?.close()])
    await dovecot?.stop()
  })

  it('logs in', async () => {
    const { page } = gw
    await page.goto(stack.gatewayUrl)
    await page.getByLabel('User name').fill(stack.gatewayAdmin.username)
    await page.getByLabel('Password').fill(stack.gatewayAdmin.password)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('heading', { name: 'Email Reporting' }).waitFor()
  })

  it('edits the mail policies: a wrong rule is refused with where and why, a right one applies', async () => {
    const { page } = gw
    await open(page, stack, 'policies', 'Mail policies')
    await page
      .getByRole('table', { name: 'Rules of incoming policy default' })
      .getByText('dangerous-attachment')
      .waitFor()
    const editor = page.getByLabel('Policies document', { exact: false })
    const document = JSON.parse(await editor.inputValue()) as {
      incoming: { rules: unknown[] }[]
    }
    const withRule = (quarantine: string) => {
      const rule = {
        name: 'console-test',
        when: { header: { name: 'X-Postern-Test', exists: true } },
        then: { quarantine },
      }
      const incoming = [{ ...document.incoming[0], rules: [rule, ...document.incoming[0]!.rules] }]
      return JSON.stringify({ ...document, incoming }, null, 2)
    }
    await editor.fill(withRule('nowhere'))
    await page.getByRole('button', { name: 'Save policies' }).click()
    await page
      .getByRole('alert')
      .getByText('"nowhere", which is not configured', { exact: false })
      .waitFor()
    await gw.screenshot('gateway-policies-refused')
    await editor.fill('{ "incoming": [ ')
    await page.getByRole('button', { name: 'Save policies' }).click()
    await page.getByRole('alert').getByText('not JSON', { exact: false }).waitFor()

    await editor.fill(withRule('policy'))
    await page.getByRole('button', { name: 'Save policies' }).click()
    await page.getByRole('status').getByText('Mail policies saved and in use').waitFor()
    await page
      .getByRole('table', { name: 'Rules of incoming policy default' })
      .getByText('console-test')
      .waitFor()
    await page.getByText('Edited in the console by admin', { exact: false }).waitFor()
    expect(await problems(gw)).toEqual([])
  })

  it('quarantines by the new rule; views a hostile message as text; releases one and deletes another', async () => {
    await sendHostile(['alice@corp.example'], '<held-1@bad.example>', { 'X-Postern-Test': 'yes' })
    await sendHostile(['bob@corp.example'], '<held-2@bad.example>', { 'X-Postern-Test': 'yes' })
    await waitFor(
      async () =>
        (
          await stack.gateway.api<{ total: number }>(
            'GET',
            '/api/v1/quarantine/messages?status=held&search=Invoice',
          )
        ).body.total === 2,
      { what: 'both messages quarantined', timeoutMs: 90_000, intervalMs: 250 },
    )
    const { page } = gw
    await open(page, stack, 'quarantine', 'Quarantine')
    const table = page.getByRole('table', { name: 'Quarantined messages' })
    await until(async () => {
      await page.getByRole('button', { name: 'Search', exact: true }).click()
      return (await table.getByRole('row').count()) === 3
    }, 'two quarantined messages')
    await expectAsText(gw)
    await table.getByText('console-test', { exact: false }).first().waitFor()
    await table
      .getByRole('button', { name: /^Pivot menu for Email address mallory@bad\.example$/ })
      .first()
      .waitFor()

    await table
      .getByRole('button', { name: /^View quarantined message/ })
      .first()
      .click()
    const view = page.getByRole('region', { name: /^Quarantined message \d+$/ })
    await view
      .getByLabel('Message text')
      .getByText('<script>window.__xss=6</script>', { exact: false })
      .waitFor()
    await view.getByText(PAYLOAD_FILE).first().waitFor()
    await view.getByRole('button', { name: `Pivot menu for File name ${PAYLOAD_FILE}` }).waitFor()
    await view
      .getByRole('button', { name: /^Pivot menu for Message-ID <held-\d@bad\.example>$/ })
      .waitFor()
    await view
      .getByRole('table', { name: 'Headers' })
      .getByText('<script>window.__xss=4</script>', { exact: false })
      .waitFor()
    expect(await page.locator('img[src="x"]').count()).toBe(0)
    expect(await problems(gw)).toEqual([])
    await gw.screenshot('gateway-quarantine-view')

    const releases = table.getByRole('button', { name: /^Release message \d+$/ })
    await releases.first().click()
    await page
      .getByRole('status')
      .getByText(/^Message \d+ released$/)
      .waitFor()
    await table
      .getByRole('button', { name: /^Delete message \d+$/ })
      .first()
      .click()
    await page
      .getByRole('status')
      .getByText(/^Message \d+ deleted$/)
      .waitFor()
    await page.getByLabel('Status').selectOption('')
    await page.getByRole('button', { name: 'Search', exact: true }).click()
    await table.getByText('released by', { exact: false }).waitFor()
    await table.getByText('deleted by', { exact: false }).waitFor()
    // The released copy reaches alice's or bob's mailbox in Dovecot.
    await until(
      async () =>
        (
          await Promise.all(
            USERS.map(async (u) => (await dovecot.messageIdsByFolder(u)).INBOX ?? []),
          )
        )
          .flat()
          .some((id) => id === '<held-1@bad.example>' || id === '<held-2@bad.example>'),
      'the released message in a mailbox',
    )
    expect(await problems(gw)).toEqual([])
  })

  it('adds a block list entry by keyboard with a reason and an expiry, finds it and removes it', async () => {
    const { page } = gw
    await open(page, stack, 'blocklists', 'Block lists')
    await page.getByRole('combobox', { name: /^Kind/ }).selectOption('sender_domain')
    await tabTo(page, /^Value to block/)
    await page.keyboard.type('bad[.]example')
    await page.keyboard.press('Tab')
    await page.keyboard.type('invoice fraud <b>campaign</b>')
    await page.getByLabel('Expires (empty: never)').fill('2099-12-31T23:59')
    await page.getByLabel('Reason').press('Enter')
    await page.getByRole('status').getByText('Blocked sender domain bad.example').waitFor()
    const table = page.getByRole('table', { name: 'Block list entries' })
    await table.getByText('invoice fraud <b>campaign</b>').waitFor()
    await table.getByText('2099-12-31', { exact: false }).waitFor()
    await table.getByRole('button', { name: 'Pivot menu for Domain bad.example' }).waitFor()

    await page.getByLabel('Value contains').fill('nothing-like-it')
    await page.getByRole('button', { name: 'Search', exact: true }).click()
    await page.getByText('No entry matches.').waitFor()
    await page.getByLabel('Value contains').fill('bad.ex')
    await page.getByRole('button', { name: 'Search', exact: true }).click()
    await gw.screenshot('gateway-blocklists')
    await table.getByRole('button', { name: 'Remove sender domain bad.example' }).click()
    await page.getByRole('status').getByText('Removed sender domain bad.example').waitFor()
    await page.getByText('No entry matches.').waitFor()

    await page.getByLabel('Value to block').fill('not a domain at all')
    await page.getByLabel('Reason').fill('x')
    await page.getByRole('button', { name: 'Add to block list' }).click()
    await page.getByRole('form', { name: 'Add a block list entry' }).getByRole('alert').waitFor()
    expect(await problems(gw)).toEqual([])
  })

  it('holds, releases, bounces and deletes queued messages, hostile subjects as text', async () => {
    const { page } = gw
    await open(page, stack, 'queue', 'Hold queue')
    await page.getByLabel('Show').selectOption('deferred')
    const table = page.getByRole('table', { name: 'Queued messages' })
    const slow = table.getByRole('row').filter({ hasText: 'slow.example' })
    await until(async () => (await slow.count()) === 2, 'both messages to slow.example deferred')
    await expectAsText(gw)
    const mids = (await slow.getByRole('link').allInnerTexts()).map(Number)
    await table.getByRole('button', { name: `Hold message ${mids[0]}` }).click()
    await page.getByRole('status').getByText(`Message ${mids[0]} held`).waitFor()
    await page.getByLabel('Show').selectOption('held')
    await table.getByRole('button', { name: `Release message ${mids[0]}` }).waitFor()
    await gw.screenshot('gateway-hold-queue')
    await table.getByRole('button', { name: `Release message ${mids[0]}` }).click()
    await page.getByRole('status').getByText(`Message ${mids[0]} released for delivery`).waitFor()
    await page.getByText('Nothing waits here.').waitFor()

    await page.getByLabel('Show').selectOption('deferred')
    await until(
      async () =>
        (await table.getByRole('button', { name: `Bounce message ${mids[0]}` }).count()) === 1,
      'the released message deferred again',
    )
    await table.getByRole('button', { name: `Bounce message ${mids[0]}` }).click()
    await page.getByRole('status').getByText(`Message ${mids[0]} returned to its sender`).waitFor()
    await table.getByRole('button', { name: `Delete message ${mids[1]}` }).click()
    await page.getByRole('status').getByText(`Message ${mids[1]} deleted`).waitFor()
    // The toast comes before the list's reload: wait for the row to go.
    await expect
      .poll(() => table.getByRole('link', { name: `Message ${mids[0]} details` }).count())
      .toBe(0)
    expect(await problems(gw)).toEqual([])

    await open(page, stack, `tracking?mid=${mids[0]}`, `Message ${mids[0]}`)
    await page
      .getByRole('list', { name: 'Timeline' })
      .getByText('DSN_SENT', { exact: false })
      .waitFor()
    await expectAsText(gw)
  })

  it('manages remediation profiles in Account Settings without the secret ever reaching the page', async () => {
    const { page } = gw
    await open(page, stack, 'accounts', 'Account Settings')
    await page.getByText('No profile yet', { exact: false }).waitFor()
    await page.getByLabel('Profile name').fill('dovecot')
    await page.getByLabel('Kind').selectOption('imap')
    await page.getByLabel('Recipient domains (comma separated)').fill('corp.example')
    await page.getByLabel('Settings (JSON)').fill(
      JSON.stringify({
        host: dovecot.host,
        port: dovecot.imapPort,
        security: 'none',
        masterUser: dovecot.master.user,
      }),
    )
    await page.getByLabel(MASTER_PASSWORD_LABEL).fill(dovecot.master.password)
    await page.getByRole('button', { name: 'Create profile' }).click()
    await page.getByRole('status').getByText('Profile dovecot saved').waitFor()
    const table = page.getByRole('table', { name: 'Remediation profiles' })
    await table.getByRole('cell', { name: 'masterPassword' }).waitFor()
    await table.getByRole('button', { name: 'Pivot menu for Domain corp.example' }).waitFor()

    await table.getByRole('button', { name: 'Edit profile dovecot' }).click()
    expect(await page.getByLabel(MASTER_PASSWORD_LABEL).inputValue()).toBe('')
    await page.getByLabel('Description').fill('Dovecot master user <i>main</i>')
    await page.getByRole('button', { name: 'Save profile' }).click()
    await table.getByRole('cell', { name: 'Dovecot master user <i>main</i>' }).waitFor()
    await page.getByLabel('Mailbox to test a profile with').fill('alice@corp.example')
    await table.getByRole('button', { name: 'Test profile dovecot with the mailbox' }).click()
    await page
      .getByRole('status')
      .getByText('Profile dovecot opened and searched the mailbox alice@corp.example')
      .waitFor()
    await gw.screenshot('gateway-account-settings')

    await page.getByLabel('Profile name').fill('spare')
    await page.getByLabel('Kind').selectOption('maildir')
    await page.getByRole('button', { name: 'Create profile' }).click()
    await table.getByRole('button', { name: 'Delete profile spare' }).click()
    await page.getByRole('status').getByText('Profile spare deleted').waitFor()
    // The toast comes before the list's reload: wait for the row to go.
    await expect.poll(() => table.getByText('spare').count()).toBe(0)

    expect(await page.content()).not.toContain(dovecot.master.password)
    expect(profileResponses.length).toBeGreaterThan(3)
    for (const body of profileResponses) expect(body).not.toContain(dovecot.master.password)
    expect(await problems(gw)).toEqual([])
  })

  it('forwards and deletes a delivered message from Message Tracking, with the result per recipient', async () => {
    const { page } = gw
    await open(page, stack, 'tracking', 'Message Tracking')
    await page.getByLabel('Message-ID').fill('<campaign-1@bad.example>')
    await page.getByRole('button', { name: 'Search', exact: true }).click()
    await page.getByRole('table', { name: 'Messages' }).getByRole('link').click()
    await page.getByRole('heading', { name: /^Message \d+$/ }).waitFor()
    for (const user of USERS) {
      await page.getByRole('table', { name: 'Recipients' }).getByText(user).waitFor()
      expect((await dovecot.messageIdsByFolder(user)).INBOX).toContain('<campaign-1@bad.example>')
    }
    await page.getByLabel('Reason', { exact: true }).fill('reported by alice')
    await page.getByRole('button', { name: 'Forward and delete' }).click()
    await page
      .getByRole('status')
      .getByText('Remediation completed: 2 done', { exact: false })
      .waitFor()
    const result = page.getByRole('table', { name: 'Remediation result per recipient' })
    for (const user of USERS) {
      const row = result.getByRole('row').filter({ hasText: user })
      await row.getByText('forwarded, deleted').waitFor()
      await row.getByRole('cell', { name: 'dovecot', exact: true }).waitFor()
      await row.getByRole('button', { name: `Pivot menu for Email address ${user}` }).waitFor()
    }
    const history = page.getByRole('table', { name: 'Remediation history' })
    await history.getByText('reported by alice', { exact: false }).first().waitFor()
    await expect.poll(() => history.getByRole('row').count()).toBe(3)
    await gw.screenshot('gateway-remediation-result')

    for (const user of USERS) {
      expect(Object.values(await dovecot.messageIdsByFolder(user)).flat()).not.toContain(
        '<campaign-1@bad.example>',
      )
    }
    await until(
      async () =>
        soc.messages.filter((m) => m.raw.toString().includes('campaign-1@bad.example')).length ===
        2,
      'two forwards at the SOC address',
    )
    expect(await problems(gw)).toEqual([])
  })

  it('switches Threat Response on, explains why telemetry needs a registration, shows the telemetry payload', async () => {
    const { page } = gw
    await open(page, stack, 'cloud', 'Cloud Service Settings')
    await page.getByLabel('Cloud services enabled').click()
    await expect.poll(() => page.getByLabel('Cloud services enabled').isChecked()).toBe(true)
    await page.getByLabel('Cloud server').selectOption('nam')
    await expect.poll(() => page.getByLabel('Cloud server').inputValue()).toBe('nam')
    await page.getByLabel('Threat Response').click()
    await expect.poll(() => page.getByLabel('Threat Response').isChecked()).toBe(true)
    // Telemetry needs a registration (the other suite registers): the page says so.
    await page.getByLabel('Usage telemetry').click()
    await page
      .getByRole('alert')
      .getByText('Usage telemetry can only be enabled while the gateway is registered')
      .waitFor()
    await expect.poll(() => page.getByLabel('Usage telemetry').isChecked()).toBe(false)
    await page.getByRole('button', { name: 'Show what is sent' }).click()
    const preview = page.getByLabel('Usage telemetry preview')
    const payload = JSON.parse(await preview.innerText()) as { uid: string; features: unknown[] }
    expect(payload.uid).toMatch(/\S/)
    expect(payload.features.length).toBeGreaterThan(0)
    expect(await problems(gw)).toEqual([])
  })

  it('labels every control of every page and reaches a pivot menu by keyboard', async () => {
    const { page } = gw
    for (const [route, heading] of [
      ['quarantine', 'Quarantine'],
      ['blocklists', 'Block lists'],
      ['queue', 'Hold queue'],
      ['policies', 'Mail policies'],
      ['accounts', 'Account Settings'],
    ] as const) {
      await open(page, stack, route, heading)
      expect(await unlabelledControls(page), route).toEqual([])
    }
    await open(page, stack, 'quarantine', 'Quarantine')
    await page.getByLabel('Status').selectOption('')
    await page.getByRole('button', { name: 'Search', exact: true }).click()
    await page.getByRole('table', { name: 'Quarantined messages' }).waitFor()
    expect(await unlabelledControls(page)).toEqual([])
    await tabTo(page, /^Pivot menu for Email address mallory@bad\.example$/, 120)
    await page.keyboard.press('Enter')
    const menu = page.getByRole('menu', { name: 'Email address mallory@bad.example' })
    await menu.getByRole('menuitem', { name: 'Search in Message Tracking' }).waitFor()
    await page.keyboard.press('Escape')
    await expect.poll(() => menu.count()).toBe(0)
    expect(await problems(gw)).toEqual([])
  })
})
