import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import { UserPreferencesStore } from '@postern/store'
import { hubErrors } from '../errors.js'
import type { HubServices } from '../services.js'

/**
 * The ribbon's state: expanded or not, its current app and the case it shows. Kept per user by
 * the hub so that the ribbon opens as it was left on every page of both consoles (different
 * origins, which share no browser storage).
 */
export const ribbonPreferences = z
  .strictObject({
    expanded: z.boolean(),
    app: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .describe('Id of the current ribbon app'),
    caseId: z.string().min(1).max(4096).nullable().describe('The casebook open in the ribbon'),
    savedAt: z
      .number()
      .int()
      .nonnegative()
      .describe(
        'When the browser changed it (epoch ms): a page that left a newer state than the hub has (it was closed while saving) sends its own',
      ),
  })
  .describe("The ribbon's state")
export type RibbonPreferences = z.infer<typeof ribbonPreferences>

const DEFAULT_RIBBON: RibbonPreferences = { expanded: false, app: 'home', caseId: null, savedAt: 0 }

/**
 * `/api/v1/preferences/ribbon`: the caller's own preferences (a console user, or the user who
 * owns the API client a ribbon logged in with), so any authenticated caller may read and write
 * them.
 */
export function registerPreferenceRoutes(app: HttpApp, services: HubServices): void {
  const store = new UserPreferencesStore(services.database.db)
  const ownerOf = (auth: { userId: string | null }): string => {
    if (!auth.userId) throw hubErrors.PREFERENCES_NEED_USER()
    return auth.userId
  }

  app.get(
    '/api/v1/preferences/ribbon',
    {
      config: { authenticated: true },
      schema: {
        summary: "The caller's ribbon state (defaults until first saved)",
        tags: ['preferences'],
        response: { 200: ribbonPreferences },
      },
    },
    async (request) => {
      const saved = ribbonPreferences.safeParse(
        await store.get(request.auth.orgId, ownerOf(request.auth), 'ribbon'),
      )
      return saved.success ? saved.data : DEFAULT_RIBBON
    },
  )

  app.put(
    '/api/v1/preferences/ribbon',
    {
      config: { authenticated: true },
      schema: {
        summary: "Save the caller's ribbon state",
        tags: ['preferences'],
        body: ribbonPreferences,
        response: { 200: ribbonPreferences },
      },
    },
    async (request) => {
      await store.set(
        request.auth.orgId,
        ownerOf(request.auth),
        'ribbon',
        request.body,
        services.clock.now(),
      )
      return request.body
    },
  )
}
