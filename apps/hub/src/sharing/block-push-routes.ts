import type { FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import type { Caller } from '../casebooks/caller.js'
import { shortIdFrom } from '../casebooks/ctia-http.js'
import { blockPushView, type BlockPushService } from './block-push.js'
import type { GatedBlockPush } from './block-push-approval.js'

export interface BlockPushRoutesOptions {
  blockPush: BlockPushService
  /** Pushes under the org's approval policy. */
  gated: GatedBlockPush
  callerOf: (request: FastifyRequest) => Caller
}

const params = z.object({ id: z.string().min(1).max(4096).describe('Short id or id URL') })
const pushBody = z
  .strictObject({
    expires_at: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('When the entries expire (ISO 8601); default: until removed'),
  })
  .describe('Block push options')
const outcome = z
  .object({
    entries: z.array(
      z.object({ kind: z.string(), value: z.string(), expires_at: z.string().nullable() }),
    ),
    skipped: z.array(z.object({ type: z.string(), value: z.string() })),
    gateways: z.array(
      z.object({
        device_id: z.string(),
        ok: z.boolean(),
        changed: z.number().optional(),
        error: z.string().optional(),
      }),
    ),
  })
  .describe('The entries sent and what each gateway of the organisation answered')
const pending = z
  .object({
    status: z.literal('pending'),
    approval_id: z.string(),
    expires_at: z.string(),
  })
  .describe(
    "The organisation's policy needs another user's approval: the push runs once approved (GET /api/v1/approvals/{approval_id})",
  )

/**
 * "Block on every gateway" (seed §1, sharing with other devices): `POST` sends a casebook's
 * observables — or a Malicious judgement's observable — as block-list entries to every gateway
 * of the organisation through the tunnel — or, when the org's policy says so, files it for
 * another user's approval (202); `DELETE` removes the same entries. A response action, so it
 * needs the `response` scope.
 */
export async function blockPushRoutes(
  app: HttpApp,
  options: BlockPushRoutesOptions,
): Promise<void> {
  const { blockPush, gated, callerOf } = options
  const context = (request: FastifyRequest) => ({ source: 'api' as const, remoteIp: request.ip })
  for (const [path, type] of [
    ['casebooks', 'casebook'],
    ['judgements', 'judgement'],
  ] as const) {
    app.post(
      `/${path}/:id/blocks`,
      {
        config: { scope: 'response' },
        schema: {
          tags: ['Sharing'],
          summary:
            type === 'casebook'
              ? "Block a casebook's observables on every gateway"
              : "Block a Malicious judgement's observable on every gateway (until it expires)",
          description:
            "When the organisation's block push policy requires approval, the push waits for another user's approval (202).",
          params,
          body: pushBody.optional(),
          response: { 200: outcome, 202: pending },
        },
      },
      async (request, reply) => {
        const at = request.body?.expires_at
        const result = await gated.push(
          callerOf(request),
          type,
          shortIdFrom(request.params.id, type),
          { expiresAt: at ? Date.parse(at) : null, context: context(request) },
        )
        if (result.status === 'done') return blockPushView(result.outcome)
        return reply.code(202).send({
          status: 'pending' as const,
          approval_id: result.request.id,
          expires_at: new Date(result.request.expiresAt).toISOString(),
        })
      },
    )
    app.delete(
      `/${path}/:id/blocks`,
      {
        config: { scope: 'response' },
        schema: {
          tags: ['Sharing'],
          summary: `Remove the block-list entries of a ${type} from every gateway`,
          params,
          response: { 200: outcome },
        },
      },
      async (request) => {
        const caller = callerOf(request)
        const shortId = shortIdFrom(request.params.id, type)
        const options = { context: context(request), action: 'remove' as const }
        return blockPushView(
          type === 'casebook'
            ? await blockPush.pushCasebook(caller, shortId, options)
            : await blockPush.pushJudgement(caller, shortId, options.context, options.action),
        )
      },
    )
  }
}
