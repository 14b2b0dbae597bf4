import type { FastifyRequest } from 'fastify'
import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import type { Caller } from '../casebooks/caller.js'
import { blockPushPolicySchema, type BlockPushPolicyService } from './block-push-approval.js'

export interface BlockPolicyRoutesOptions {
  policy: BlockPushPolicyService
  callerOf: (request: FastifyRequest) => Caller
}

const policyBody = z.object({ approval_required: z.boolean() })

/**
 * `/api/v1/sharing/block-policy`: whether the org's judgement and casebook block pushes wait
 * for a second user's approval. Anyone who reads private intel may see it; only an admin may
 * change it (an analyst who may push must not be able to lift the approval on their own push).
 */
export async function blockPolicyRoutes(
  app: HttpApp,
  options: BlockPolicyRoutesOptions,
): Promise<void> {
  app.get(
    '/sharing/block-policy',
    {
      config: { scope: 'private-intel:read' },
      schema: {
        tags: ['Sharing'],
        summary: 'Whether block pushes to the gateways need approval',
        response: { 200: policyBody },
      },
    },
    async (request) => ({
      approval_required: await options.policy.approvalRequired(options.callerOf(request).orgId),
    }),
  )
  app.put(
    '/sharing/block-policy',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['Sharing'],
        summary: "Choose whether block pushes need another user's approval",
        body: blockPushPolicySchema,
        response: { 200: policyBody },
      },
    },
    async (request) => options.policy.set(options.callerOf(request), request.body, request.ip),
  )
}
