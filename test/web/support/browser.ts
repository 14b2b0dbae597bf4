/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Functions passed to page.evaluate run in the browser, hence the DOM types.
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { tempDir } from '@postern/testkit'

/** Debian's chromium: the suites never download a browser of their own. */
export const CHROMIUM = '/usr/bin/chromium'
export const chromiumMissing = !existsSync(CHROMIUM)
/** Under CI a missing browser fails the suite instead of skipping it. */
export const skipBrowser = chromiumMissing && process.env.CI !== 'true'

export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'web')

export interface Browser {
  context: BrowserContext
  /** A page whose script errors, console errors and CSP violations are collected. */
  newPage(): Promise<GuardedPage>
  close(): Promise<void>
}

export interface GuardedPage {
  page: Page
  /** Script errors, console errors, dialogs and CSP violations seen so far. */
  problems(): Promise<string[]>
  screenshot(name: string): Promise<void>
}

export async function launchBrowser(): Promise<Browser> {
  if (chromiumMissing) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`)
  const profile = tempDir('postern-chromium-')
  mkdirSync(ARTIFACTS, { recursive: true })
  // launchPersistentContext is how playwright takes a fresh --user-data-dir.
  const context = await chromium.launchPersistentContext(profile.path, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: { width: 1280, height: 900 },
  })
  // Counted in every document: a violation means markup from a message reached the DOM as HTML.
  await context.addInitScript(() => {
    const w = window as unknown as { __cspViolations: string[] }
    w.__cspViolations = []
    document.addEventListener('securitypolicyviolation', (event) => {
      w.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`)
    })
  })
  return {
    context,
    async newPage() {
      const page = await context.newPage()
      const seen: string[] = []
      page.on('pageerror', (err) => seen.push(`pageerror: ${err.message}`))
      page.on('console', (message) => {
        // Failed requests are reported below with their URL.
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
          seen.push(`console: ${message.text()}`)
        }
      })
      page.on('response', (response) => {
        if (response.status() >= 400) {
          seen.push(
            `http ${response.status()} ${response.request().method()} ${new URL(response.url()).pathname}`,
          )
        }
      })
      page.on('dialog', (dialog) => {
        seen.push(`dialog: ${dialog.message()}`)
        void dialog.dismiss()
      })
      return {
        page,
        async problems() {
          const state = await page
            .evaluate(() => {
              const w = window as unknown as { __cspViolations?: string[]; __xss?: unknown }
              return { csp: w.__cspViolations ?? [], xss: w.__xss }
            })
            .catch(() => ({ csp: [] as string[], xss: undefined }))
          return [
            ...seen,
            ...state.csp.map((v) => `csp: ${v}`),
            ...(state.xss === undefined ? [] : [`payload ran: ${String(state.xss)}`]),
          ]
        },
        async screenshot(name: string) {
          await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
        },
      }
    },
    async close() {
      await context.close()
      profile.remove()
    },
  }
}

/** Presses Tab until the focused element matches `name` (its accessible label); fails after `max`. */
export async function tabTo(page: Page, name: RegExp, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab')
    const label = await page.evaluate(() => {
      const active = document.activeElement
      const deep = active?.shadowRoot?.activeElement ?? active
      if (!deep) return ''
      return (
        deep.getAttribute('aria-label') ||
        (deep as HTMLInputElement).labels?.[0]?.innerText ||
        (deep as HTMLElement).innerText ||
        ''
      ).trim()
    })
    if (name.test(label)) return
  }
  throw new Error(`${name} was not reached with Tab`)
}

/** Controls of the page (and of the ribbon's shadow root) that have no accessible name. */
export async function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const roots: (Document | ShadowRoot)[] = [document]
    const ribbon = document.querySelector('postern-ribbon')?.shadowRoot
    if (ribbon) roots.push(ribbon)
    const missing: string[] = []
    for (const root of roots) {
      for (const el of root.querySelectorAll<HTMLElement>(
        'button, a[href], input, select, textarea, [role="menuitem"]',
      )) {
        const labels = (el as HTMLInputElement).labels
        const name =
          el.getAttribute('aria-label') ||
          (el.getAttribute('aria-labelledby') &&
            root.querySelector(`#${el.getAttribute('aria-labelledby')}`)?.textContent) ||
          (labels && labels.length > 0 ? labels[0]?.textContent : '') ||
          el.textContent
        if (!name?.trim()) missing.push(el.outerHTML.slice(0, 120))
      }
    }
    return missing
  })
}
