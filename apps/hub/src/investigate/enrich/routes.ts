import { ObservableSchema } from '@postern/ctim'
import type { HttpApp } from '@postern/http'
import type { FastifyReply } from 'fastify'
import { z } from 'zod'
import { auditActor } from '../../auth/principal.js'
import { irohErrorHandler, parseIroh } from '../iroh-errors.js'
import { approvalView, type ApprovalService } from './approvals.js'
import type { EnrichService } from './enrich-service.js'
import type { RecommendedActions } from './recommended-actions.js'
import type { RespondService } from './respond-service.js'

/**
 * Aborted when the caller goes away before its answer is written: module calls nobody will
 * read stop. The response's `close` is the signal, not the request's: Node closes (and marks
 * destroyed) an `IncomingMessage` as soon as its body has been read, so the request's own
 * `close` fires on every call, while the response closes before it finished only when the
 * connection was lost.
 */
function callerGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort()
  })
  return controller.signal
}

/**
 * Enrich and respond routes of the Threat Response API (reference §2): observe, deliberate and
 * refer over every enabled module of the organisation, module health, the actions modules offer
 * and triggering one. Answers are the reference envelope with partial results.
 */
export async function registerEnrichRoutes(
  app: HttpApp,
  services: {
    enrich: EnrichService
    respond: RespondService
    recommended: RecommendedActions
    approvals: ApprovalService
    maxObservables: number
  },
): Promise<void> {
  const observables = z.array(ObservableSchema).max(services.maxObservables)
  await app.register(async (plugin) => {
    const scope = plugin as unknown as HttpApp
    scope.setErrorHandler(irohErrorHandler)

    for (const [route, summary] of [
      ['observe', 'Sightings and other entities from every module (gateways, relay modules)'],
      ['deliberate', 'Verdicts from every module'],
      ['refer', 'Links into the consoles of every module'],
    ] as const) {
      scope.post(
        `/iroh/iroh-enrich/${route}/observables`,
        {
          config: { scope: `enrich/observables/${route}:read` },
          bodyLimit: 1024 * 1024,
          schema: { summary, tags: ['enrich'] },
        },
        async (request, reply) => {
          const body = parseIroh(observables, request.body)
          const args = [
            request.auth.orgId,
            auditActor(request.auth),
            body,
            callerGone(reply),
          ] as const
          if (route === 'refer') return services.enrich.refer(...args)
          // Observe and deliberate answer JSON text assembled as the modules answered.
          return reply
            .type('application/json; charset=utf-8')
            .send(await services.enrich[route](...args))
        },
      )
    }

    scope.post(
      '/iroh/iroh-enrich/health',
      {
        config: { scope: 'integration/health:read' },
        schema: { summary: 'Health of every enabled module instance', tags: ['enrich'] },
      },
      async (request) => services.enrich.health(request.auth.orgId, auditActor(request.auth)),
    )
    scope.post(
      '/iroh/iroh-enrich/health/:id',
      {
        config: { scope: 'integration/health:read' },
        schema: {
          summary: 'Health of one module instance',
          tags: ['enrich'],
          params: z.object({ id: z.string().min(1).max(200) }).strict(),
        },
      },
      async (request) => {
        const result = await services.enrich.health(
          request.auth.orgId,
          auditActor(request.auth),
          request.params.id,
        )
        return { data: result.data[0] ?? null, errors: result.errors }
      },
    )

    scope.post(
      '/iroh/iroh-response/respond/observables',
      {
        config: { scope: 'response/observables:read' },
        schema: {
          summary:
            'Response actions every module offers, recommended steps first (with priority and reason)',
          tags: ['response'],
        },
      },
      async (request, reply) =>
        services.recommended.list(
          request.auth.orgId,
          parseIroh(observables, request.body),
          callerGone(reply),
        ),
    )

    scope.post(
      '/iroh/iroh-response/respond/recommended',
      {
        config: { scope: 'response/trigger:write' },
        schema: {
          summary:
            'Run every recommended step for the observables at once (approval policies apply)',
          tags: ['response'],
        },
      },
      async (request) =>
        services.recommended.run(request.auth.orgId, parseIroh(observables, request.body), {
          actor: auditActor(request.auth),
          requestedBy: request.auth.userId ?? request.auth.clientId ?? 'unknown',
          requesterUserId: request.auth.userId,
          caller: request.auth,
        }),
    )

    scope.post(
      '/iroh/iroh-response/respond/trigger/:instance/:action',
      {
        config: { scope: 'response/trigger:write' },
        schema: {
          summary: 'Run a response action (module instance id or module name)',
          tags: ['response'],
          params: z
            .object({ instance: z.string().min(1).max(200), action: z.string().min(1).max(200) })
            .strict(),
        },
      },
      async (request) => {
        const query = parseIroh(
          z.record(z.string(), z.string().max(2000)).and(
            z.object({
              observable_type: z.string().min(1).max(64),
              observable_value: z.string().min(1).max(2000),
            }),
          ),
          request.query,
        )
        const { observable_type, observable_value, ...extras } = query
        return services.respond.trigger(request.auth.orgId, {
          instance: request.params.instance,
          actionId: request.params.action,
          observableType: observable_type,
          observableValue: observable_value,
          extras,
          actor: auditActor(request.auth),
          requestedBy: request.auth.userId ?? request.auth.clientId ?? 'unknown',
          requesterUserId: request.auth.userId,
        })
      },
    )

    const approvalParams = z.object({ id: z.string().min(1).max(100) }).strict()
    const decisionBody = z
      .object({ comment: z.string().max(2000).optional().describe('Why (shown to the requester)') })
      .strict()
    scope.get(
      '/api/v1/approvals',
      {
        config: { scope: 'response/approvals:read' },
        schema: {
          summary: 'Response actions waiting for (or decided by) approval',
          tags: ['response'],
          querystring: z
            .object({ status: z.enum(['pending', 'approved', 'rejected', 'expired']).optional() })
            .strict(),
        },
      },
      async (request) => ({
        items: (await services.approvals.list(request.auth.orgId, request.query.status)).map(
          approvalView,
        ),
      }),
    )
    scope.get(
      '/api/v1/approvals/:id',
      {
        config: { scope: 'response/approvals:read' },
        schema: { summary: 'One action request', tags: ['response'], params: approvalParams },
      },
      async (request) =>
        approvalView(await services.approvals.get(request.auth.orgId, request.params.id)),
    )
    for (const [verb, decision] of [
      ['approve', 'approved'],
      ['reject', 'rejected'],
    ] as const) {
      scope.post(
        `/api/v1/approvals/:id/${verb}`,
        {
          config: { scope: 'response/approvals:write' },
          schema: {
            summary:
              verb === 'approve'
                ? 'Approve a pending action (it runs now); not your own'
                : 'Reject a pending action; not your own',
            tags: ['response'],
            params: approvalParams,
          },
        },
        async (request) => {
          const body = parseIroh(decisionBody, request.body ?? {})
          return approvalView(
            await services.approvals.decide(
              request.auth.orgId,
              request.params.id,
              request.auth,
              decision,
              body.comment ?? null,
            ),
          )
        },
      )
    }
  })
}
