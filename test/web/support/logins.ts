import type { Page } from 'playwright-core'
import type { Stack } from './stack.js'

/** Logs `who` in to the hub console; resolves on its first page. */
export async function hubLogin(
  page: Page,
  stack: Stack,
  who: { email: string; password: string },
): Promise<void> {
  await page.goto(stack.hubUrl)
  await page.getByLabel('Email').fill(who.email)
  await page.getByLabel('Password').fill(who.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('heading', { name: 'Investigate' }).waitFor()
}

/**
 * Logs the gateway's admin in to the gateway console, then its ribbon in to the hub with an API
 * client's credentials (the dialog at the top of every page).
 */
export async function gatewayLoginWithRibbon(
  page: Page,
  stack: Stack,
  client: { clientId: string; clientSecret: string },
): Promise<void> {
  await page.goto(stack.gatewayUrl)
  await page.getByLabel('User name', { exact: false }).fill(stack.gatewayAdmin.username)
  await page.getByLabel('Password').fill(stack.gatewayAdmin.password)
  await page.getByLabel('Password').press('Enter')
  await page.getByRole('heading', { level: 1 }).waitFor()
  await page.getByRole('button', { name: 'Login to use the ribbon' }).click()
  const dialog = page.getByRole('dialog', { name: 'Login to use the ribbon' })
  await dialog.getByLabel('Client ID').fill(client.clientId)
  await dialog.getByLabel('Client secret').fill(client.clientSecret)
  await dialog.getByLabel('Hub server').fill(stack.hubUrl)
  await dialog.getByRole('button', { name: 'Authenticate' }).click()
}
