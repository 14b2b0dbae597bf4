import type { FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import type { Caller } from './caller.js'
import type { CasebookService } from './casebook-service.js'
import { renderEntity, shortIdFrom, type BaseUrl } from './ctia-http.js'
import { ObservableSchema } from '@postern/ctim'

export interface ActiveCaseRoutesOptions {
  casebooks: CasebookService
  baseUrl: BaseUrl
  callerOf: (request: FastifyRequest) => Caller
}

const casebookBody = z.record(z.string(), z.unknown()).describe('The casebook (CTIM)')

/**
 * The ribbon's and pivot menu's casebook shortcuts, on the hub's own API (`/api/v1`, coded
 * error bodies): the caller's active case, and "add these observables to my case" in one call.
 */
export async function activeCaseRoutes(
  app: HttpApp,
  options: ActiveCaseRoutesOptions,
): Promise<void> {
  const { casebooks, baseUrl, callerOf } = options
  const context = (request: FastifyRequest) => ({ source: 'api' as const, remoteIp: request.ip })

  app.get(
    '/casebooks/active',
    {
      config: { scope: 'casebook:read' },
      schema: {
        tags: ['Casebooks'],
        summary: "The caller's active casebook (null when none)",
        response: { 200: z.object({ casebook: casebookBody.nullable() }) },
      },
    },
    async (request) => {
      const active = await casebooks.activeCase(callerOf(request))
      return { casebook: active ? renderEntity(active, baseUrl) : null }
    },
  )

  app.put(
    '/casebooks/active',
    {
      config: { scope: 'casebook' },
      schema: {
        tags: ['Casebooks'],
        summary: 'Make a casebook the active one',
        body: z.strictObject({ casebook_id: z.string().min(1).max(4096) }),
        response: { 200: z.object({ casebook: casebookBody }) },
      },
    },
    async (request) => {
      const casebook = await casebooks.setActiveCase(
        callerOf(request),
        shortIdFrom(request.body.casebook_id, 'casebook'),
        context(request),
      )
      return { casebook: renderEntity(casebook, baseUrl) }
    },
  )

  app.delete(
    '/casebooks/active',
    {
      config: { scope: 'casebook' },
      schema: { tags: ['Casebooks'], summary: 'Clear the active casebook' },
    },
    async (request, reply) => {
      await casebooks.clearActiveCase(callerOf(request))
      return reply.code(204).send()
    },
  )

  app.post(
    '/casebooks/active/observables',
    {
      config: { scope: 'casebook' },
      schema: {
        tags: ['Casebooks'],
        summary: 'Add observables to the active casebook, creating one when there is none',
        body: z.strictObject({
          observables: z.array(ObservableSchema).min(1).max(1000),
          title: z
            .string()
            .min(1)
            .max(1024)
            .optional()
            .describe('Title of the casebook if one is created'),
        }),
        response: {
          200: z.object({ casebook: casebookBody, created: z.literal(false) }),
          201: z.object({ casebook: casebookBody, created: z.literal(true) }),
        },
      },
    },
    async (request, reply) => {
      const { casebook, created } = await casebooks.addToActiveCase(
        callerOf(request),
        request.body.observables,
        {
          ...(request.body.title !== undefined ? { title: request.body.title } : {}),
          context: context(request),
        },
      )
      return reply.code(created ? 201 : 200).send({
        casebook: renderEntity(casebook, baseUrl),
        created,
      })
    },
  )
}
