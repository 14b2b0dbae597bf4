import type { FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import type { Caller } from '../casebooks/caller.js'
import { DETECTIONS } from './auto-incidents.js'
import { autoIncidentPolicySchema, type AutoIncidentPolicyService } from './gateway-events.js'

export interface AutoPolicyRoutesOptions {
  policies: AutoIncidentPolicyService
  callerOf: (request: FastifyRequest) => Caller
}

const policyBody = z.object({
  detections: z.array(z.enum(DETECTIONS)),
  window_minutes: z.number().int(),
})

/** `/api/v1/incidents/auto-policy`: which gateway detections raise incidents. */
export async function autoPolicyRoutes(
  app: HttpApp,
  options: AutoPolicyRoutesOptions,
): Promise<void> {
  const render = (policy: { detections: readonly string[]; windowMs: number }) =>
    policyBody.parse({
      detections: policy.detections,
      window_minutes: Math.round(policy.windowMs / 60_000),
    })

  app.get(
    '/incidents/auto-policy',
    {
      config: { scope: 'private-intel:read' },
      schema: {
        tags: ['Incidents'],
        summary: 'Which gateway detections raise incidents, and the grouping window',
        response: { 200: policyBody },
      },
    },
    async (request) => render(await options.policies.get(options.callerOf(request))),
  )

  app.put(
    '/incidents/auto-policy',
    {
      config: { scope: 'private-intel' },
      schema: {
        tags: ['Incidents'],
        summary: 'Choose which gateway detections raise incidents',
        body: autoIncidentPolicySchema,
        response: { 200: policyBody },
      },
    },
    async (request) =>
      render(await options.policies.set(options.callerOf(request), request.body, request.ip)),
  )
}
