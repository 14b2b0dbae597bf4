import type { FastifyReply, FastifyRequest } from 'fastify'
import { isAppError } from '@postern/core'
import { ctiaValidationBody, parseCtiaId } from '@postern/ctim'
import type { z } from 'zod'
import { defaultErrorHandler } from '@postern/http'
import type { CtiaEntity, CtiaEntityType } from '@postern/store'
import { privateIntelErrors } from './private-intel-errors.js'

/**
 * What the CTIA-compatible routes need beyond the services: the public origin ids are made of,
 * and who is calling.
 */
export interface CtiaHttpContext {
  /**
   * Public origin of the private-intel API, e.g. `https://hub.example.com:443` — entity ids
   * are `<baseUrl>/ctia/<type>/<short id>`.
   */
  baseUrl: BaseUrl
}

/**
 * The public origin, or a function that gives it: the hub knows its URL only once it listens
 * (port 0 in tests, `publicUrl` otherwise), after the routes are registered.
 */
export type BaseUrl = string | (() => string)

const SHORT_ID = /^([a-z-]+)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i

/**
 * The short id named by a path parameter: the short id itself, the full id URL, or the URL
 * percent-encoded into the segment. Anything else, an id of another entity type, or a transient
 * id names nothing: CTIA answers those with 404 too.
 */
export function shortIdFrom(raw: string, entityType: CtiaEntityType): string {
  const parsed = parseCtiaId(raw, entityType)
  if (!parsed || parsed.transient)
    throw privateIntelErrors.ENTITY_NOT_FOUND({ entity: entityType, id: raw.slice(0, 200) })
  return parsed.shortId
}

export function idUrl(baseUrl: BaseUrl, entityType: string, shortId: string): string {
  const origin = typeof baseUrl === 'function' ? baseUrl() : baseUrl
  return `${origin.replace(/\/+$/, '')}/ctia/${entityType}/${shortId}`
}

/** A stored reference as clients see it: short ids of our entities become URLs. */
function refUrl(baseUrl: BaseUrl, ref: unknown): unknown {
  if (typeof ref !== 'string') return ref
  const match = SHORT_ID.exec(ref)
  return match ? idUrl(baseUrl, match[1]!.toLowerCase(), ref) : ref
}

/** The CTIM document served for a stored entity. */
export function renderEntity(entity: CtiaEntity, baseUrl: BaseUrl): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    ...entity.doc,
    id: idUrl(baseUrl, entity.entityType, entity.id),
    type: entity.entityType,
    owner: entity.owner,
    groups: entity.groups,
    created: new Date(entity.created).toISOString(),
    modified: new Date(entity.modified).toISOString(),
  }
  if (entity.clientId) doc.client_id = entity.clientId
  if (entity.entityType === 'relationship') {
    doc.source_ref = refUrl(baseUrl, doc.source_ref)
    doc.target_ref = refUrl(baseUrl, doc.target_ref)
  }
  return doc
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Scope the route requires (checked by the hub's auth layer). */
    scope?: string
    /** No authentication. */
    public?: boolean
    /**
     * The 404 body of a CTIA route: CTIA's generic routes answer an empty body, the casebook
     * operation and PATCH routes `{"error":"casebook not found"}`.
     */
    ctiaNotFound?: 'empty' | 'json'
  }
}

/**
 * Validator compiler of the `/ctia` scope: zod as elsewhere, but a failure keeps the zod error
 * and the input so that the error handler can word CTIA's 400 body from them.
 */
export function ctiaValidatorCompiler({ schema }: { schema: z.ZodType }) {
  return (data: unknown) => {
    const result = schema.safeParse(data)
    if (result.success) return { value: result.data }
    return {
      error: Object.assign(new Error('validation failed'), { zodError: result.error, input: data }),
    }
  }
}

/**
 * Error handler of the `/ctia` scope, answering in CTIA's shapes (reference §2 notes):
 * 400 `{"error":"Spec Validation Client Error","type":"Invalid Entity Error","message"}`,
 * 404 empty or `{"error":"<entity> not found"}`, 500 `{"type":"unknown-exception","class"}`.
 * Authentication and scope refusals keep the IROH shapes the auth layer sends.
 */
export async function ctiaErrorHandler(
  error: Error & {
    statusCode?: number
    zodError?: z.ZodError
    input?: unknown
  },
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  if (privateIntelErrors.ENTITY_NOT_FOUND.is(error)) {
    if (request.routeOptions.config.ctiaNotFound === 'json') {
      await reply.code(404).send({ error: `${String(error.params.entity)} not found` })
    } else {
      await reply.code(404).send()
    }
    return
  }
  if (error.zodError) {
    await reply.code(400).send(ctiaValidationBody(error.zodError, error.input))
    return
  }
  if (
    privateIntelErrors.INVALID_QUERY.is(error) ||
    privateIntelErrors.INVALID_ENTITY.is(error) ||
    privateIntelErrors.LINK_TARGET_INVALID.is(error)
  ) {
    await reply.code(400).send({
      error: 'Spec Validation Client Error',
      type: 'Invalid Entity Error',
      message: error.message,
    })
    return
  }
  if (!isAppError(error) && (error.statusCode === undefined || error.statusCode >= 500)) {
    request.log.error({ err: error, event: 'CTIA_UNEXPECTED_ERROR' }, 'unexpected error')
    await reply.code(500).send({ type: 'unknown-exception', class: error.name })
    return
  }
  await defaultErrorHandler(error, request, reply)
}
