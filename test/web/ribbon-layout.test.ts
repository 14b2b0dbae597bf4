/// <reference lib="dom" />
// Functions passed to page.evaluate run in the browser, hence the DOM types.
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RIBBON_CLIENT_SCOPES, SCOPE_CATALOGUE } from '@postern/hub'
import { fetchToken } from '../hub/harness.js'
import { launchBrowser, skipBrowser, type Browser, type GuardedPage } from './support/browser.js'
import { gatewayLoginWithRibbon, hubLogin } from './support/logins.js'
import { startStack, type Stack } from './support/stack.js'

const VIEWPORTS = [
  { name: 'narrow', width: 390, height: 700 },
  { name: 'wide', width: 1280, height: 720 },
]
/** Enough block list entries for a page several screens long at either width. */
const ENTRIES = 40

/** Where the page's lowest element is, once the page is scrolled to its end. */
interface LowestElement {
  /** Tag, text and label of the element, for the failure message. */
  what: string
  top: number
  bottom: number
  /** The expanded ribbon's top edge. */
  ribbonTop: number
  /**
   * Whether elementFromPoint finds the element (or what it holds) in the middle of its visible
   * part and at its bottom edge.
   */
  hitAtCentre: boolean
  hitAtBottom: boolean
}

/**
 * Scrolls the page to its end and looks at its lowest visible element (the console's shell,
 * navigation included): it must lie above the ribbon and be what a click there would reach.
 */
function lowestElement(page: Page): Promise<LowestElement> {
  return page.evaluate(() => {
    window.scrollTo(0, document.documentElement.scrollHeight)
    const ribbon = document.querySelector('postern-ribbon') as HTMLElement
    let lowest: Element | undefined
    let lowestBottom = -Infinity
    const shown = (el: Element) => {
      const rect = el.getBoundingClientRect()
      return rect.width > 0 && rect.height > 0 && getComputedStyle(el).visibility !== 'hidden'
    }
    // Leaves only: a container (the grid's main area) reaches lower than what it holds.
    for (const el of document.querySelectorAll('.shell *')) {
      if (!shown(el) || [...el.children].some(shown)) continue
      const rect = el.getBoundingClientRect()
      if (rect.bottom >= lowestBottom) {
        lowest = el
        lowestBottom = rect.bottom
      }
    }
    const el = lowest as Element
    // A wide table on a narrow viewport: bring the element's left edge into view too.
    window.scrollBy(el.getBoundingClientRect().left - 10, 0)
    const rect = el.getBoundingClientRect()
    const x = rect.left + Math.min(rect.width / 2, 10)
    const reaches = (y: number) => {
      const hit = document.elementFromPoint(x, y)
      return hit !== null && (el.contains(hit) || hit.contains(el))
    }
    return {
      what: `<${el.tagName.toLowerCase()}> ${(el.textContent ?? '').trim().slice(0, 60)} ${el.getAttribute('aria-label') ?? ''}`,
      top: rect.top,
      bottom: rect.bottom,
      ribbonTop: ribbon.getBoundingClientRect().top,
      // The middle of what the viewport shows of it (a cell of a wrapped row can be taller).
      hitAtCentre: reaches((Math.max(rect.top, 0) + rect.bottom) / 2),
      hitAtBottom: reaches(rect.bottom - 1),
    }
  })
}

/** Opens the ribbon's pane unless it already is (its state follows the hub user). */
async function expandRibbon(page: Page): Promise<void> {
  const ribbon = page.locator('postern-ribbon')
  const toggle = ribbon.getByRole('button', { name: /^(Expand|Collapse) ribbon$/ })
  await toggle.waitFor()
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click()
  await ribbon.getByRole('button', { name: 'Collapse ribbon' }).waitFor()
  await ribbon.locator('#ribbon-pane').waitFor()
}

/** Every page of the console's navigation: its lowest element is clear of the ribbon. */
async function expectEveryPageClear(tab: GuardedPage, viewport: string): Promise<string[]> {
  const { page } = tab
  const links = await page.getByRole('navigation', { name: 'Pages' }).getByRole('link').all()
  const labels = await Promise.all(links.map((link) => link.innerText()))
  expect(labels.length).toBeGreaterThan(5)
  for (const label of labels) {
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: label }).click()
    await page.getByRole('heading', { level: 1 }).waitFor()
    await expandRibbon(page)
    // The page's data has arrived once nothing is loading any more.
    await page.waitForLoadState('networkidle')
    const lowest = await lowestElement(page)
    const where = `${viewport} ${label}: ${lowest.what}`
    expect(lowest.bottom, where).toBeLessThanOrEqual(lowest.ribbonTop)
    expect(lowest.hitAtCentre, where).toBe(true)
    expect(lowest.hitAtBottom, where).toBe(true)
  }
  return labels
}

/**
 * The ribbon, expanded, never covers the page under it: on every page of both consoles, at a
 * narrow and a wide viewport, the page's last element can be scrolled above the ribbon and is
 * what a click there reaches; the last row of a long table is clicked for real.
 */
describe.skipIf(skipBrowser)('the expanded ribbon and the page under it', () => {
  let stack: Stack
  let browser: Browser
  let hub: GuardedPage
  let gw: GuardedPage
  let ribbonClient: { clientId: string; clientSecret: string }

  beforeAll(async () => {
    ;[stack, browser] = await Promise.all([startStack(), launchBrowser()])
    const admin = await stack.hub.admin.createApiClient({ name: 'test', scopes: SCOPE_CATALOGUE })
    const token = await fetchToken(stack.hub, admin.client.id, admin.secret)
    const created = await fetch(`${stack.hubUrl}/api/v1/api-clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'gateway ribbon', scopes: RIBBON_CLIENT_SCOPES }),
    })
    expect(created.status).toBe(201)
    ribbonClient = (await created.json()) as typeof ribbonClient
    for (let i = 0; i < ENTRIES; i++) {
      const added = await stack.gateway.api('POST', '/api/v1/blocklists', {
        kind: 'sender_domain',
        value: `spam-${String(i).padStart(2, '0')}.example`,
        reason: 'ribbon layout test',
      })
      expect(added.status).toBe(201)
    }
    hub = await browser.newPage()
    gw = await browser.newPage()
  }, 180_000)
  afterAll(async () => {
    await browser?.close()
    await stack?.stop()
  })

  it('leaves every hub console page clear of it, narrow and wide', async () => {
    const { page } = hub
    await hubLogin(page, stack, stack.hubAdmin)
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport)
      await expectEveryPageClear(hub, viewport.name)
    }
    expect(await hub.problems()).toEqual([])
  }, 300_000)

  it('leaves every gateway console page clear of it, narrow and wide', async () => {
    const { page } = gw
    await gatewayLoginWithRibbon(page, stack, ribbonClient)
    await page.getByRole('button', { name: /^Ribbon: / }).waitFor()
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport)
      const pages = await expectEveryPageClear(gw, viewport.name)
      expect(pages).toContain('Block lists')
    }
    expect(await gw.problems()).toEqual([])
  }, 300_000)

  it.each(VIEWPORTS)(
    'takes a real click on the last row of a long table ($name)',
    async (viewport) => {
      const { page } = gw
      await page.setViewportSize(viewport)
      await page.goto(`${stack.gatewayUrl}/#/blocklists`)
      await page.getByRole('heading', { name: 'Block lists', level: 1 }).waitFor()
      await expandRibbon(page)
      const table = page.getByRole('table', { name: 'Block list entries' })
      const last = table.getByRole('button', { name: /^Remove / }).last()
      await last.waitFor()
      const name = (await last.getAttribute('aria-label')) as string
      // Scrolled to the very end, the last row's button sits above the ribbon: a mouse click at
      // its centre (no scrolling by playwright, no retargeting) reaches it.
      await last.evaluate((el) =>
        window.scrollTo(
          window.scrollX + el.getBoundingClientRect().left - 10,
          document.documentElement.scrollHeight,
        ),
      )
      const box = await last.boundingBox()
      if (!box) throw new Error(`${name} has no box`)
      const ribbonTop = await page
        .locator('postern-ribbon')
        .evaluate((el) => el.getBoundingClientRect().top)
      expect(box.y + box.height).toBeLessThanOrEqual(ribbonTop)
      const rows = await table.getByRole('row').count()
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2)
      await page.getByText(`Removed ${name.replace(/^Remove /, '')}`).waitFor()
      await expect.poll(() => table.getByRole('row').count()).toBe(rows - 1)
      const value = /spam-\d+\.example/.exec(name)?.[0]
      expect(value).toBeDefined()
      const left = await stack.gateway.api<{ entries: { value: string }[] }>(
        'GET',
        '/api/v1/blocklists?limit=200',
      )
      expect(left.body.entries.map((e) => e.value)).not.toContain(value)
      expect(await gw.problems()).toEqual([])
    },
    120_000,
  )
})
