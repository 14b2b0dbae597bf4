import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import { parseMailboxAddress } from './mailbox-address.js'
import { PROFILE_KINDS } from './profile-kinds.js'
import {
  profileCreateSchema,
  profileNameSchema,
  profileUpdateSchema,
  type RemediationProfiles,
} from './profiles.js'
import { requestContext } from './request-context.js'
import type { RemediationService, RunWithTargets } from './service.js'
import type { TrackedRemediation } from './tracked.js'

const action = z
  .enum(['delete', 'forward', 'forward-delete'])
  .describe('delete, forward or forward-delete')

export const runView = z.object({
  id: z.string(),
  action: z.string(),
  status: z.enum(['running', 'completed', 'partial', 'failed']),
  trigger: z.enum(['manual', 'retro']),
  reason: z.string(),
  actor: z.object({ type: z.string(), id: z.string() }),
  source: z.string(),
  remoteIp: z.string().nullable(),
  forwardTo: z.array(z.string()),
  attempts: z.number(),
  counts: z.object({
    total: z.number(),
    done: z.number(),
    notFound: z.number(),
    failed: z.number(),
  }),
  createdAt: z.number(),
  updatedAt: z.number(),
  finishedAt: z.number().nullable(),
})

export const targetView = z.object({
  messageId: z.string(),
  recipient: z.string(),
  mids: z.array(z.number()),
  profile: z.string().nullable(),
  status: z.enum(['pending', 'done', 'not_found', 'failed']),
  forwarded: z.boolean(),
  deleted: z.boolean(),
  folders: z.array(z.string()),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  attempts: z.number(),
  updatedAt: z.number(),
})

const runWithTargets = z.object({ run: runView, targets: z.array(targetView) })

const profileView = z.object({
  name: z.string(),
  kind: z.enum(PROFILE_KINDS as [string, ...string[]]),
  description: z.string(),
  domains: z.array(z.string()),
  enabled: z.boolean(),
  settings: z.record(z.string(), z.unknown()),
  secretsSet: z.array(z.string()),
  createdAt: z.number(),
  updatedAt: z.number(),
  updatedBy: z.string(),
})

const nameParams = z.object({ name: profileNameSchema }).strict()
const runParams = z.object({ id: z.string().uuid().describe('Run id') }).strict()

export interface RemediationRouteDeps {
  profiles: RemediationProfiles
  service: RemediationService
  tracked: TrackedRemediation
}

/**
 * Remediation API: start a run on MIDs or Message-IDs, follow and retry runs, and manage the
 * profiles. Operators remediate; only admins see or change profiles.
 */
export function registerRemediationRoutes(app: HttpApp, deps: RemediationRouteDeps): void {
  app.post(
    '/api/v1/remediation',
    {
      config: { role: 'operator' },
      schema: {
        summary:
          'Delete, forward, or forward and delete delivered messages in the recipients’ mailboxes',
        body: z
          .object({
            action,
            mids: z
              .array(z.number().int().positive())
              .max(1000)
              .optional()
              .describe('Gateway MIDs'),
            messageIds: z
              .array(z.string().trim().min(1).max(998))
              .max(100)
              .optional()
              .describe('Message-IDs: every MID tracked with them'),
            recipients: z
              .array(z.string().trim().min(3).max(320))
              .max(10_000)
              .optional()
              .describe('Only these recipients (default: every delivered recipient)'),
            forwardTo: z
              .array(z.string().trim().email())
              .max(10)
              .optional()
              .describe('Forward addresses (default remediation.forward.address)'),
            reason: z
              .string()
              .max(1000)
              .optional()
              .describe('Why; kept with the run and in forwards'),
            idempotencyKey: z
              .string()
              .min(1)
              .max(200)
              .optional()
              .describe('A repeated request with the same key returns the first run'),
            wait: z
              .boolean()
              .default(false)
              .describe('Answer when the run has finished (200) instead of at once (202)'),
          })
          .strict()
          .refine(
            (b) => (b.mids?.length ?? 0) + (b.messageIds?.length ?? 0) > 0,
            'give mids or messageIds',
          ),
        response: { 200: runWithTargets, 202: runWithTargets },
      },
    },
    async (request, reply) => {
      const result = await deps.tracked.remediate(request.body, requestContext(request))
      return reply.code(request.body.wait ? 200 : 202).send(view(result))
    },
  )

  app.get(
    '/api/v1/remediation/runs',
    {
      config: { role: 'read-only' },
      schema: {
        summary: 'Remediation runs, newest first',
        querystring: z
          .object({
            status: z.enum(['running', 'completed', 'partial', 'failed']).optional(),
            trigger: z.enum(['manual', 'retro']).optional(),
            since: z.coerce.number().int().min(0).optional(),
            until: z.coerce.number().int().min(0).optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(50),
            offset: z.coerce.number().int().min(0).default(0),
          })
          .strict(),
        response: { 200: z.object({ total: z.number(), runs: z.array(runView) }) },
      },
    },
    async (request) => deps.service.list(request.query),
  )

  app.get(
    '/api/v1/remediation/runs/:id',
    {
      config: { role: 'read-only' },
      schema: {
        summary: 'A run with its result per mailbox',
        params: runParams,
        response: { 200: runWithTargets },
      },
    },
    async (request) => view(await deps.service.get(request.params.id)),
  )

  app.post(
    '/api/v1/remediation/runs/:id/retry',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Run again every mailbox of a run that failed or did not finish',
        params: runParams,
        body: z
          .object({ wait: z.boolean().default(true) })
          .strict()
          .prefault({}),
        response: { 200: runWithTargets },
      },
    },
    async (request) =>
      view(await deps.service.retry(request.params.id, requestContext(request), request.body.wait)),
  )

  // --- Profiles ("Account Settings") ----------------------------------------------------------
  app.get(
    '/api/v1/remediation/profiles',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Remediation profiles (secrets are never returned)',
        response: { 200: z.object({ profiles: z.array(profileView) }) },
      },
    },
    async () => ({ profiles: await deps.profiles.list() }),
  )

  app.post(
    '/api/v1/remediation/profiles',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Create a remediation profile',
        body: profileCreateSchema,
        response: { 201: profileView },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await deps.profiles.create(request.body, requestContext(request))),
  )

  app.get(
    '/api/v1/remediation/profiles/:name',
    {
      config: { role: 'admin' },
      schema: { summary: 'One profile', params: nameParams, response: { 200: profileView } },
    },
    async (request) => deps.profiles.get(request.params.name),
  )

  app.patch(
    '/api/v1/remediation/profiles/:name',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Change a profile (omitted secrets are kept)',
        params: nameParams,
        body: profileUpdateSchema,
        response: { 200: profileView },
      },
    },
    async (request) =>
      deps.profiles.update(request.params.name, request.body, requestContext(request)),
  )

  app.delete(
    '/api/v1/remediation/profiles/:name',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Delete a profile',
        params: nameParams,
        response: { 200: z.object({ ok: z.boolean() }) },
      },
    },
    async (request) => {
      await deps.profiles.remove(request.params.name, requestContext(request))
      return { ok: true }
    },
  )

  app.post(
    '/api/v1/remediation/profiles/:name/test',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Open a mailbox through the profile and search it, without changing anything',
        params: nameParams,
        body: z
          .object({
            mailbox: z.string().trim().min(3).max(320).describe('A mailbox the profile serves'),
          })
          .strict(),
        response: { 200: z.object({ ok: z.boolean(), profile: z.string(), mailbox: z.string() }) },
      },
    },
    async (request) => {
      const mailbox = parseMailboxAddress(request.body.mailbox)
      const result = await deps.profiles.test(request.params.name, mailbox)
      return { ok: true, profile: result.profile, mailbox: mailbox.address }
    },
  )
}

function view(result: RunWithTargets) {
  return {
    run: result.run,
    targets: result.targets.map((t) => ({ ...t, id: undefined, runId: undefined })),
  }
}
