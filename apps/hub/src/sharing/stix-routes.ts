import type { FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import type { Caller } from '../casebooks/caller.js'
import { shortIdFrom } from '../casebooks/ctia-http.js'
import type { StixExportService } from './stix-export.js'

export interface StixRoutesOptions {
  stix: StixExportService
  callerOf: (request: FastifyRequest) => Caller
}

const stixBundle = z.looseObject({
  type: z.literal('bundle'),
  id: z.string(),
  objects: z.array(z.record(z.string(), z.unknown())),
})
const params = z.object({ id: z.string().min(1).max(4096).describe('Short id or id URL') })

/**
 * `/api/v1/{casebooks,incidents}/{id}/stix`: a STIX 2.1 bundle of the entity, served as
 * `application/stix+json;version=2.1` (STIX 2.1 §1.6 / TAXII media type). Observables STIX cannot
 * express are listed in the `X-Postern-Stix-Skipped` header count.
 */
export async function stixRoutes(app: HttpApp, options: StixRoutesOptions): Promise<void> {
  const { stix, callerOf } = options
  for (const [path, type] of [
    ['casebooks', 'casebook'],
    ['incidents', 'incident'],
  ] as const) {
    app.get(
      `/${path}/:id/stix`,
      {
        config: { scope: type === 'casebook' ? 'casebook:read' : 'private-intel:read' },
        schema: {
          tags: ['Sharing'],
          summary: `Export a ${type} as a STIX 2.1 bundle`,
          params,
          response: { 200: stixBundle },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request)
        const id = shortIdFrom(request.params.id, type)
        const result =
          type === 'casebook' ? await stix.casebook(caller, id) : await stix.incident(caller, id)
        return reply
          .type('application/stix+json;version=2.1')
          .header('X-Postern-Stix-Skipped', String(result.skipped.length))
          .header('Content-Disposition', `attachment; filename="${id}.stix.json"`)
          .send({ ...result.bundle })
      },
    )
  }
}
