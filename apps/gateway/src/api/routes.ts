import { z } from 'zod'
import { httpErrors, type HttpApp } from '@postern/http'
import { API_ROLES, type ApiAccountStore, type AuditLog, type TrackingStore } from '@postern/store'
import type { GatewayConfig } from '../config.js'
import { parseDuration } from '../config.js'
import { gwErrors } from '../errors.js'
import type { GatewayMetrics } from '../metrics/metrics.js'
import type { QueueOperations } from '../smtp-processes/cluster-queue.js'
import type { ApiAuth, Principal } from './auth.js'
import { recipientView } from './tracking-views.js'

export interface ApiDeps {
  config: GatewayConfig
  auth: ApiAuth
  accounts: ApiAccountStore
  queue: QueueOperations
  tracking: TrackingStore
  metrics: GatewayMetrics
  audit: AuditLog
  health(): Promise<{ ok: boolean; checks: Record<string, string> }>
}

const role = z
  .enum(API_ROLES as unknown as [string, ...string[]])
  .describe('admin, operator or read-only')
const midParams = z
  .object({ mid: z.coerce.number().int().positive().describe('Message id (MID)') })
  .strict()

const userView = z.object({
  id: z.number(),
  username: z.string(),
  role: z.string(),
  createdAt: z.number(),
  lastLoginAt: z.number().nullable(),
})

const queueItem = z.object({
  mid: z.number(),
  state: z.enum(['processing', 'active', 'deferred', 'held']),
  busy: z.boolean(),
  from: z.string(),
  subject: z.string().nullable(),
  size: z.number(),
  receivedAt: z.number(),
  attempts: z.number(),
  nextAttemptAt: z.number().nullable(),
  lastError: z.string().nullable(),
  recipients: z.array(z.object({ address: z.string(), status: z.enum(['pending', 'done']) })),
})

function actor(principal: Principal | undefined): { type: 'user' | 'cli' | 'client'; id: string } {
  if (!principal) return { type: 'client', id: 'unknown' }
  if (principal.kind === 'local') return { type: 'cli', id: 'local-cli' }
  return { type: principal.kind === 'session' ? 'user' : 'client', id: principal.name }
}

function actorName(principal: Principal | undefined): string {
  return principal ? `${principal.kind}:${principal.name}` : 'unknown'
}

/**
 * The gateway's HTTP API foundation: health, metrics, accounts, the queue and message
 * tracking. Other areas register their routes on the same app with `config.role`.
 */
export function registerRoutes(app: HttpApp, deps: ApiDeps): void {
  const { auth, queue, audit } = deps

  // --- Operations ----------------------------------------------------------------------------
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: {
        summary: 'Liveness and readiness: the spool, the database and the listeners',
        response: {
          200: z.object({ status: z.string(), checks: z.record(z.string(), z.string()) }),
          503: z.object({ status: z.string(), checks: z.record(z.string(), z.string()) }),
        },
      },
    },
    async (_request, reply) => {
      const health = await deps.health()
      return reply
        .code(health.ok ? 200 : 503)
        .send({ status: health.ok ? 'ok' : 'failing', checks: health.checks })
    },
  )

  app.get(
    '/metrics',
    {
      config: deps.config.api.publicMetrics ? { public: true } : { role: 'read-only' },
      schema: { summary: 'Prometheus metrics', hide: true },
    },
    async (_request, reply) => {
      const { contentType, body } = await deps.metrics.render()
      return reply.type(contentType).send(body)
    },
  )

  // --- Authentication ------------------------------------------------------------------------
  app.post(
    '/api/v1/auth/login',
    {
      config: { public: true },
      schema: {
        summary: 'Exchange a user name and password for a session token',
        body: z
          .object({ username: z.string().min(1).max(200), password: z.string().min(1).max(1000) })
          .strict(),
        response: { 200: z.object({ token: z.string(), expiresAt: z.number(), user: userView }) },
      },
    },
    async (request) => {
      try {
        const session = await auth.login(request.body.username, request.body.password)
        await audit.record({
          actor: { type: 'user', id: session.user.username },
          source: 'api',
          remoteIp: request.ip,
          action: 'auth.login',
          outcome: 'success',
        })
        return session
      } catch (err) {
        await audit.record({
          actor: { type: 'user', id: request.body.username.slice(0, 200) },
          source: 'api',
          remoteIp: request.ip,
          action: 'auth.login',
          outcome: 'failure',
        })
        throw err
      }
    },
  )

  app.post(
    '/api/v1/auth/logout',
    {
      config: { role: 'read-only' },
      schema: {
        summary: 'End the session of the token used',
        response: { 200: z.object({ ok: z.boolean() }) },
      },
    },
    async (request) => {
      await auth.logout(request.principal as Principal)
      return { ok: true }
    },
  )

  app.get(
    '/api/v1/auth/whoami',
    {
      config: { role: 'read-only' },
      schema: {
        summary: 'The caller',
        response: { 200: z.object({ kind: z.string(), name: z.string(), role: z.string() }) },
      },
    },
    async (request) => {
      const p = request.principal as Principal
      return { kind: p.kind, name: p.name, role: p.role }
    },
  )

  // --- Users ---------------------------------------------------------------------------------
  app.get(
    '/api/v1/users',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'List API users',
        response: { 200: z.object({ users: z.array(userView) }) },
      },
    },
    async () => ({ users: await deps.accounts.listUsers() }),
  )

  app.post(
    '/api/v1/users',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Create an API user',
        body: z
          .object({
            username: z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/),
            password: z.string().max(1000),
            role,
          })
          .strict(),
        response: { 200: userView },
      },
    },
    async (request) => {
      const user = await auth.createUser(
        request.body.username,
        request.body.password,
        request.body.role as never,
      )
      await audit.record({
        actor: actor(request.principal),
        source: 'api',
        remoteIp: request.ip,
        action: 'user.create',
        target: { type: 'user', id: user.username },
        outcome: 'success',
        details: { role: user.role },
      })
      return user
    },
  )

  app.patch(
    '/api/v1/users/:username',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Change the role or password of a user',
        params: z.object({ username: z.string().max(64) }).strict(),
        body: z
          .object({ password: z.string().max(1000).optional(), role: role.optional() })
          .strict(),
        response: { 200: userView },
      },
    },
    async (request) => {
      const user = await auth.updateUser(request.params.username, request.body as never)
      await audit.record({
        actor: actor(request.principal),
        source: 'api',
        remoteIp: request.ip,
        action: 'user.update',
        target: { type: 'user', id: user.username },
        outcome: 'success',
        details: { role: request.body.role, password: request.body.password !== undefined },
      })
      return user
    },
  )

  app.delete(
    '/api/v1/users/:username',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Delete a user and its sessions',
        params: z.object({ username: z.string().max(64) }).strict(),
        response: { 200: z.object({ ok: z.boolean() }) },
      },
    },
    async (request) => {
      await auth.deleteUser(request.params.username)
      await audit.record({
        actor: actor(request.principal),
        source: 'api',
        remoteIp: request.ip,
        action: 'user.delete',
        target: { type: 'user', id: request.params.username },
        outcome: 'success',
      })
      return { ok: true }
    },
  )

  // --- API tokens ----------------------------------------------------------------------------
  const tokenView = z.object({
    id: z.number(),
    kind: z.string(),
    name: z.string(),
    role: z.string(),
    createdAt: z.number(),
    expiresAt: z.number().nullable(),
    lastUsedAt: z.number().nullable(),
  })

  app.get(
    '/api/v1/tokens',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'List API tokens (never their values)',
        response: { 200: z.object({ tokens: z.array(tokenView) }) },
      },
    },
    async () => ({ tokens: await deps.accounts.listTokens('api') }),
  )

  app.post(
    '/api/v1/tokens',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Create an API token; its value is shown once',
        body: z
          .object({
            name: z.string().min(1).max(100),
            role,
            expiresIn: z.string().optional().describe('e.g. 90d; omitted: does not expire'),
          })
          .strict(),
        response: {
          200: z.object({
            token: z.string(),
            id: z.number(),
            name: z.string(),
            role: z.string(),
            expiresAt: z.number().nullable(),
          }),
        },
      },
    },
    async (request) => {
      const expires =
        request.body.expiresIn === undefined ? null : parseDuration(request.body.expiresIn)
      if (expires !== null && !(expires > 0))
        throw httpErrors.VALIDATION({ issues: '/expiresIn: not a duration such as 90d' })
      const { token, record } = await auth.createToken(
        request.body.name,
        request.body.role as never,
        expires,
        null,
      )
      await audit.record({
        actor: actor(request.principal),
        source: 'api',
        remoteIp: request.ip,
        action: 'token.create',
        target: { type: 'token', id: String(record.id) },
        outcome: 'success',
        details: { name: record.name, role: record.role },
      })
      return {
        token,
        id: record.id,
        name: record.name,
        role: record.role,
        expiresAt: record.expiresAt,
      }
    },
  )

  app.delete(
    '/api/v1/tokens/:id',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'Revoke an API token',
        params: z.object({ id: z.coerce.number().int().positive() }).strict(),
        response: { 200: z.object({ ok: z.boolean() }) },
      },
    },
    async (request) => {
      await auth.revokeToken(request.params.id)
      await audit.record({
        actor: actor(request.principal),
        source: 'api',
        remoteIp: request.ip,
        action: 'token.revoke',
        target: { type: 'token', id: String(request.params.id) },
        outcome: 'success',
      })
      return { ok: true }
    },
  )

  // --- Queue ---------------------------------------------------------------------------------
  app.get(
    '/api/v1/queue',
    {
      config: { role: 'read-only' },
      schema: {
        summary: 'Messages in the queue, oldest first',
        querystring: z
          .object({
            state: z.enum(['processing', 'active', 'deferred', 'held']).optional(),
            limit: z.coerce.number().int().min(1).max(10_000).default(100),
            offset: z.coerce.number().int().min(0).default(0),
          })
          .strict(),
        response: { 200: z.object({ total: z.number(), items: z.array(queueItem) }) },
      },
    },
    async (request) => queue.list(request.query),
  )

  app.get(
    '/api/v1/queue/summary',
    {
      config: { role: 'read-only' },
      schema: {
        summary: 'Counts by state',
        response: {
          200: z.object({
            total: z.number(),
            processing: z.number(),
            active: z.number(),
            deferred: z.number(),
            held: z.number(),
          }),
        },
      },
    },
    async () => queue.summary(),
  )

  app.get(
    '/api/v1/queue/:mid',
    {
      config: { role: 'read-only' },
      schema: { summary: 'One queued message', params: midParams, response: { 200: queueItem } },
    },
    async (request) => queue.get(request.params.mid),
  )

  /** A queue change done: recorded in the audit log with who did it. */
  const auditQueue = (
    request: { principal?: Principal | undefined; ip: string },
    mid: number,
    action: string,
  ) =>
    audit.record({
      actor: actor(request.principal),
      source: 'api',
      remoteIp: request.ip,
      action: `queue.${action}`,
      target: { type: 'message', id: String(mid) },
      outcome: 'success',
    })

  for (const action of ['hold', 'release'] as const) {
    app.post(
      `/api/v1/queue/:mid/${action}`,
      {
        config: { role: 'operator' },
        schema: {
          summary:
            action === 'hold'
              ? 'Hold a message (no delivery until released)'
              : 'Release a held message for delivery now',
          params: midParams,
          response: { 200: queueItem },
        },
      },
      async (request) => {
        const by = actorName(request.principal)
        const view =
          action === 'hold'
            ? await queue.hold(request.params.mid, by)
            : await queue.release(request.params.mid, by)
        await auditQueue(request, request.params.mid, action)
        return view
      },
    )
  }

  const removals = {
    delete: {
      method: 'DELETE',
      url: '/api/v1/queue/:mid',
      summary: 'Delete a message from the queue (no delivery, no bounce)',
      run: (mid: number, by: string) => queue.delete(mid, by),
    },
    bounce: {
      method: 'POST',
      url: '/api/v1/queue/:mid/bounce',
      summary: 'Return a message to its sender (a DSN for each recipient not yet delivered)',
      run: (mid: number, by: string) => queue.bounceNow(mid, by),
    },
  } as const
  for (const [action, removal] of Object.entries(removals)) {
    app.route({
      method: removal.method,
      url: removal.url,
      config: { role: 'operator' },
      schema: {
        summary: removal.summary,
        params: midParams,
        response: { 200: z.object({ ok: z.boolean() }) },
      },
      handler: async (request) => {
        await removal.run(request.params.mid, actorName(request.principal))
        await auditQueue(request, request.params.mid, action)
        return { ok: true }
      },
    })
  }

  app.post(
    '/api/v1/queue/flush',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'Retry every deferred message now',
        response: { 200: z.object({ retried: z.number() }) },
      },
    },
    async () => ({ retried: await queue.flush() }),
  )

  // --- Message tracking ----------------------------------------------------------------------
  const trackedMessage = z.object({
    mid: z.number(),
    icid: z.number(),
    receivedAt: z.number(),
    updatedAt: z.number(),
    listener: z.string(),
    senderGroup: z.string().nullable(),
    hatPolicy: z.string().nullable(),
    direction: z.string(),
    senderIp: z.string(),
    senderRdns: z.string().nullable(),
    helo: z.string().nullable(),
    tls: z.string().nullable(),
    authUser: z.string().nullable(),
    envelopeSender: z.string(),
    senderDomain: z.string().nullable(),
    messageId: z.string().nullable(),
    subject: z.string().nullable(),
    headerFrom: z.string().nullable(),
    headerTo: z.string().nullable(),
    headerReplyTo: z.string().nullable(),
    size: z.number(),
    recipientCount: z.number(),
    status: z.string(),
    reply: z.string().nullable(),
    recipients: z.array(recipientView),
  })

  app.get(
    '/api/v1/tracking/messages',
    {
      config: { role: 'read-only' },
      schema: {
        summary: 'Recently tracked messages, newest first (page with `before`)',
        querystring: z
          .object({
            limit: z.coerce.number().int().min(1).max(1000).default(50),
            before: z.coerce.number().int().positive().optional(),
            status: z.string().max(32).optional(),
          })
          .strict(),
        response: { 200: z.object({ messages: z.array(trackedMessage) }) },
      },
    },
    async (request) => ({ messages: await deps.tracking.listMessages(request.query as never) }),
  )

  app.get(
    '/api/v1/tracking/messages/:mid',
    {
      config: { role: 'read-only' },
      schema: {
        summary: 'A tracked message with its timeline and observables',
        params: midParams,
        response: {
          200: z.object({
            message: trackedMessage,
            events: z.array(
              z.object({
                id: z.number(),
                at: z.number(),
                mid: z.number().nullable(),
                icid: z.number().nullable(),
                dcid: z.number().nullable(),
                event: z.string(),
                recipient: z.string().nullable(),
                details: z.record(z.string(), z.unknown()),
              }),
            ),
            observables: z.array(z.object({ type: z.string(), value: z.string() })),
          }),
        },
      },
    },
    async (request) => {
      const message = await deps.tracking.getMessage(request.params.mid)
      if (!message) throw gwErrors.TRACKING_MESSAGE_NOT_FOUND({ mid: request.params.mid })
      return {
        message,
        events: await deps.tracking.listEvents(request.params.mid),
        observables: await deps.tracking.listObservables(request.params.mid),
      }
    },
  )
}
