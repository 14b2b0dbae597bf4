import { expect } from 'vitest'
import type { GuardedPage } from './browser.js'

/** Markup that would set window.__xss if any page rendered it as HTML (CSP would also report it). */
export const PAYLOAD_SUBJECT =
  'Invoice <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>'
export const PAYLOAD_NAME = '<img src=x onerror="window.__xss=3"><script>window.__xss=4</script>'

/**
 * The page shows the hostile subject as text, built no element from any payload, and reports
 * no problem (`problems` lets a suite leave out the refusals it provokes on purpose).
 */
export async function expectPayloadAsText(
  tab: GuardedPage,
  problems: (tab: GuardedPage) => Promise<string[]> = (t) => t.problems(),
): Promise<void> {
  const { page } = tab
  await page.getByText('<img src=x onerror="window.__xss=1">', { exact: false }).first().waitFor()
  expect(await page.locator('img[src="x"]').count()).toBe(0)
  expect(await page.locator('body script, [onmouseover]').count()).toBe(0)
  expect(await problems(tab)).toEqual([])
}
