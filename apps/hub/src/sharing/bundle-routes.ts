import type { FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import type { Caller } from '../casebooks/caller.js'
import type { BundleService } from './bundle-service.js'

export interface BundleRoutesOptions {
  bundles: BundleService
  callerOf: (request: FastifyRequest) => Caller
}

const bundleBody = z.record(z.string(), z.unknown()).describe('A CTIM bundle')
const exportQuery = z.looseObject({
  ids: z
    .union([z.string().max(4096), z.array(z.string().max(4096)).max(1000)])
    .describe('Ids (short or URL) of the entities to export'),
  include_related_entities: z
    .enum(['true', 'false'])
    .optional()
    .describe('Also export relationships and the entities they link (default true)'),
})

/** Bundles can be large: up to 2000 entities. */
const BUNDLE_BODY_LIMIT = 16 * 1024 * 1024

/**
 * `/ctia/bundle/export` (GET with query, POST with body) and `/ctia/bundle/import`, in CTIA's
 * shapes. Register inside the `/ctia` scope so errors answer in CTIA's bodies.
 */
export async function bundleRoutes(app: HttpApp, options: BundleRoutesOptions): Promise<void> {
  const { bundles, callerOf } = options
  const list = (ids: string | string[]) => (Array.isArray(ids) ? ids : [ids])

  app.get(
    '/bundle/export',
    {
      config: { scope: 'private-intel:read' },
      schema: {
        tags: ['Bundle'],
        summary: 'Export entities, with what they relate to, as a CTIM bundle',
        querystring: exportQuery,
        response: { 200: bundleBody },
      },
    },
    async (request) =>
      bundles.export(callerOf(request), list(request.query.ids), {
        includeRelated: request.query.include_related_entities !== 'false',
      }),
  )

  app.post(
    '/bundle/export',
    {
      config: { scope: 'private-intel:read' },
      schema: {
        tags: ['Bundle'],
        summary: 'Export entities as a CTIM bundle (ids in the body)',
        querystring: z.looseObject({
          include_related_entities: exportQuery.shape.include_related_entities,
        }),
        body: z.strictObject({ ids: z.array(z.string().max(4096)).min(1).max(1000) }),
        response: { 200: bundleBody },
      },
    },
    async (request) =>
      bundles.export(callerOf(request), request.body.ids, {
        includeRelated: request.query.include_related_entities !== 'false',
      }),
  )

  app.post(
    '/bundle/import',
    {
      bodyLimit: BUNDLE_BODY_LIMIT,
      config: { scope: 'private-intel' },
      schema: {
        tags: ['Bundle'],
        summary: 'Import a CTIM bundle: one result per entity (created, exists or error)',
        body: bundleBody,
        response: {
          200: z.object({
            results: z.array(
              z.object({
                id: z.string().optional(),
                original_id: z.string().optional(),
                result: z.enum(['created', 'exists', 'error']),
                type: z.string(),
                external_ids: z.array(z.string()).optional(),
                error: z.string().optional(),
              }),
            ),
          }),
        },
      },
    },
    async (request) => ({
      results: await bundles.import(callerOf(request), request.body, {
        source: 'api',
        remoteIp: request.ip,
      }),
    }),
  )
}
