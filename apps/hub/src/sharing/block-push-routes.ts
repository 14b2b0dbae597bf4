import type { FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import type { Caller } from '../casebooks/caller.js'
import { shortIdFrom } from '../casebooks/ctia-http.js'
import type { BlockPushOutcome, BlockPushService } from './block-push.js'

export interface BlockPushRoutesOptions {
  blockPush: BlockPushService
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

function render(result: BlockPushOutcome): z.infer<typeof outcome> {
  return {
    entries: result.entries.map((e) => ({
      kind: e.kind,
      value: e.value,
      expires_at: e.expiresAt === null ? null : new Date(e.expiresAt).toISOString(),
    })),
    skipped: result.skipped,
    gateways: result.gateways.map((g) => ({
      device_id: g.deviceId,
      ok: g.ok,
      ...(g.added === undefined ? {} : { changed: g.added }),
      ...(g.error === undefined ? {} : { error: g.error }),
    })),
  }
}

/**
 * "Block on every gateway" (seed §1, sharing with other devices): `POST` sends a casebook's
 * observables — or a Malicious judgement's observable — as block-list entries to every gateway
 * of the organisation through the tunnel; `DELETE` removes the same entries. A response action,
 * so it needs the `response` scope.
 */
export async function blockPushRoutes(
  app: HttpApp,
  options: BlockPushRoutesOptions,
): Promise<void> {
  const { blockPush, callerOf } = options
  const context = (request: FastifyRequest) => ({ source: 'api' as const, remoteIp: request.ip })
  for (const [path, type] of [
    ['casebooks', 'casebook'],
    ['judgements', 'judgement'],
  ] as const) {
    const run = (
      request: FastifyRequest,
      id: string,
      action: 'add' | 'remove',
      expiresAt: number | null,
    ) => {
      const caller = callerOf(request)
      const shortId = shortIdFrom(id, type)
      return type === 'casebook'
        ? blockPush.pushCasebook(caller, shortId, { expiresAt, context: context(request), action })
        : blockPush.pushJudgement(caller, shortId, context(request), action)
    }
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
          params,
          body: pushBody.optional(),
          response: { 200: outcome },
        },
      },
      async (request) => {
        const at = request.body?.expires_at
        return render(await run(request, request.params.id, 'add', at ? Date.parse(at) : null))
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
      async (request) => render(await run(request, request.params.id, 'remove', null)),
    )
  }
}
