import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  launchBrowser,
  skipBrowser,
  tabTo,
  type Browser,
  type GuardedPage,
} from './support/browser.js'
import { startStack, type Stack } from './support/stack.js'

describe.skipIf(skipBrowser)('hub console in chromium', () => {
  let stack: Stack
  let browser: Browser
  let tab: GuardedPage

  beforeAll(async () => {
    browser = await launchBrowser()
    stack = await startStack()
    tab = await browser.newPage()
  }, 180_000)
  afterAll(async () => {
    await browser?.close()
    await stack?.stop()
  })

  it('serves the console and the ribbon script under a strict Content-Security-Policy', async () => {
    const page = await fetch(`${stack.hubUrl}/`)
    expect(page.status).toBe(200)
    const csp = page.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).not.toContain('unsafe-eval')
    const ribbon = await fetch(`${stack.hubUrl}/ribbon.js`)
    expect(ribbon.status).toBe(200)
    expect(ribbon.headers.get('content-type')).toMatch(/javascript/)
    expect(ribbon.headers.get('cross-origin-resource-policy')).toBe('cross-origin')
  })

  it('logs in with the keyboard alone', async () => {
    const { page } = tab
    await page.goto(stack.hubUrl)
    await tabTo(page, /^Email/)
    await page.keyboard.type(stack.hubAdmin.email)
    await page.keyboard.press('Tab')
    await page.keyboard.type(stack.hubAdmin.password)
    await page.keyboard.press('Enter')
    await page.getByRole('heading', { name: 'Investigate' }).waitFor()
    await tab.screenshot('hub-investigate-empty')
    expect(await tab.problems()).toEqual([])
  })
})
