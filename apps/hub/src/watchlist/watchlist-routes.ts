import type { FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import type { Watch, WatchSighting } from '@postern/store'
import type { Caller } from '../casebooks/caller.js'
import { ObservableSchema } from '@postern/ctim'
import type { WatchlistService } from './watchlist-service.js'

export interface WatchlistRoutesOptions {
  watchlist: WatchlistService
  callerOf: (request: FastifyRequest) => Caller
}

/** Webhook targets: absolute http(s) URLs without credentials. */
const webhookUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value)
      return (
        (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password
      )
    } catch {
      return false
    }
  }, 'must be an http(s) URL without credentials')
  .describe('URL the hub POSTs each sighting to (JSON)')

const notifySchema = z
  .strictObject({
    console: z.boolean().optional().describe('Show sightings live in the console (default true)'),
    webhook: webhookUrl.nullable().optional(),
    email: z.email().max(320).nullable().optional().describe('Address notified of each sighting'),
  })
  .describe('Notification channels')

const incidentMode = z
  .enum(['none', 'open'])
  .describe('"open": each sighting opens an incident, or adds to the open one')

const watchBody = z.object({
  id: z.string(),
  observable: ObservableSchema,
  note: z.string().nullable(),
  created_by: z.string(),
  notify: z.object({
    console: z.boolean(),
    webhook: z.string().nullable(),
    email: z.string().nullable(),
  }),
  incident_mode: incidentMode,
  incident_id: z.string().nullable(),
  active: z.boolean(),
  sighting_count: z.number().int(),
  last_sighting_at: z.string().nullable(),
  created: z.string(),
  modified: z.string(),
})

const sightingBody = z.object({
  observed_at: z.string(),
  recorded_at: z.string(),
  device_id: z.string(),
  message_ref: z.string(),
  message_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
})

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

function renderWatch(watch: Watch): z.infer<typeof watchBody> {
  return {
    id: watch.id,
    observable: watch.observable as z.infer<typeof ObservableSchema>,
    note: watch.note,
    created_by: watch.createdBy,
    notify: watch.notify,
    incident_mode: watch.incidentMode,
    incident_id: watch.incidentId,
    active: watch.active,
    sighting_count: watch.sightingCount,
    last_sighting_at: iso(watch.lastSightingAt),
    created: iso(watch.created)!,
    modified: iso(watch.modified)!,
  }
}

function renderSighting(s: WatchSighting): z.infer<typeof sightingBody> {
  return {
    observed_at: iso(s.observedAt)!,
    recorded_at: iso(s.recordedAt)!,
    device_id: s.deviceId,
    message_ref: s.messageRef,
    message_id: s.messageId,
    details: s.details,
  }
}

const idParams = z.object({ id: z.string().min(1).max(100) })
const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  offset: z.coerce.number().int().min(0).optional(),
})

/** `/api/v1/watchlist`: watched observables and their sightings. */
export async function watchlistRoutes(
  app: HttpApp,
  options: WatchlistRoutesOptions,
): Promise<void> {
  const { watchlist, callerOf } = options
  const context = (request: FastifyRequest) => ({ source: 'api' as const, remoteIp: request.ip })

  app.get(
    '/watchlist',
    {
      config: { scope: 'private-intel:read' },
      schema: {
        tags: ['Watchlist'],
        summary: 'List watched observables',
        querystring: pageQuery,
        response: { 200: z.object({ total: z.number().int(), watches: z.array(watchBody) }) },
      },
    },
    async (request) => {
      const { total, watches } = await watchlist.list(callerOf(request), request.query)
      return { total, watches: watches.map(renderWatch) }
    },
  )

  app.post(
    '/watchlist',
    {
      config: { scope: 'private-intel' },
      schema: {
        tags: ['Watchlist'],
        summary: 'Watch an observable',
        body: z.strictObject({
          observable: ObservableSchema,
          note: z.string().max(2048).nullable().optional(),
          notify: notifySchema.optional(),
          incident_mode: incidentMode.optional(),
        }),
        response: { 201: watchBody },
      },
    },
    async (request, reply) => {
      const body = request.body
      const watch = await watchlist.create(
        callerOf(request),
        {
          observable: body.observable,
          ...(body.note !== undefined ? { note: body.note } : {}),
          ...(body.notify !== undefined ? { notify: body.notify } : {}),
          ...(body.incident_mode !== undefined ? { incidentMode: body.incident_mode } : {}),
        },
        context(request),
      )
      return reply.code(201).send(renderWatch(watch))
    },
  )

  app.get(
    '/watchlist/:id',
    {
      config: { scope: 'private-intel:read' },
      schema: {
        tags: ['Watchlist'],
        summary: 'One watch',
        params: idParams,
        response: { 200: watchBody },
      },
    },
    async (request) => renderWatch(await watchlist.get(callerOf(request), request.params.id)),
  )

  app.patch(
    '/watchlist/:id',
    {
      config: { scope: 'private-intel' },
      schema: {
        tags: ['Watchlist'],
        summary: 'Change a watch (note, channels, incident mode, pause/resume)',
        params: idParams,
        body: z.strictObject({
          note: z.string().max(2048).nullable().optional(),
          notify: notifySchema.optional(),
          incident_mode: incidentMode.optional(),
          active: z.boolean().optional(),
        }),
        response: { 200: watchBody },
      },
    },
    async (request) => {
      const body = request.body
      const watch = await watchlist.update(
        callerOf(request),
        request.params.id,
        {
          ...(body.note !== undefined ? { note: body.note } : {}),
          ...(body.notify !== undefined ? { notify: body.notify } : {}),
          ...(body.incident_mode !== undefined ? { incidentMode: body.incident_mode } : {}),
          ...(body.active !== undefined ? { active: body.active } : {}),
        },
        context(request),
      )
      return renderWatch(watch)
    },
  )

  app.delete(
    '/watchlist/:id',
    {
      config: { scope: 'private-intel' },
      schema: { tags: ['Watchlist'], summary: 'Stop watching', params: idParams },
    },
    async (request, reply) => {
      await watchlist.delete(callerOf(request), request.params.id, context(request))
      return reply.code(204).send()
    },
  )

  app.get(
    '/watchlist/:id/sightings',
    {
      config: { scope: 'private-intel:read' },
      schema: {
        tags: ['Watchlist'],
        summary: 'Messages the gateways saw carrying the watched observable, newest first',
        params: idParams,
        querystring: pageQuery,
        response: { 200: z.array(sightingBody) },
      },
    },
    async (request) =>
      (await watchlist.sightings(callerOf(request), request.params.id, request.query)).map(
        renderSighting,
      ),
  )
}
