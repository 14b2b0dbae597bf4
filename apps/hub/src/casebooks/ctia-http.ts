import type { FastifyReply, FastifyRequest } from 'fastify'
import { isAppError } from '@postern/core'
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
  baseUrl: string
}

const SHORT_ID = /^([a-z-]+)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i

/**
 * The short id named by a path parameter: the short id itself, the full id URL, or the URL
 * percent-encoded into the segment (fastify has decoded it once). Anything else, or an id of
 * another entity type, names nothing: CTIA answers those with 404 too.
 */
export function shortIdFrom(raw: string, entityType: CtiaEntityType | 'watch'): string {
  let text = raw.trim()
  if (/%[0-9a-f]{2}/i.test(text)) {
    try {
      text = decodeURIComponent(text)
    } catch {
      throw privateIntelErrors.ENTITY_NOT_FOUND({ entity: entityType, id: raw.slice(0, 200) })
    }
  }
  const segment = text.slice(text.lastIndexOf('/') + 1)
  const match = SHORT_ID.exec(segment)
  if (!match || match[1]!.toLowerCase() !== entityType)
    throw privateIntelErrors.ENTITY_NOT_FOUND({ entity: entityType, id: raw.slice(0, 200) })
  return segment.toLowerCase()
}

export function idUrl(baseUrl: string, entityType: string, shortId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/ctia/${entityType}/${shortId}`
}

/** A stored reference as clients see it: short ids of our entities become URLs. */
function refUrl(baseUrl: string, ref: unknown): unknown {
  if (typeof ref !== 'string') return ref
  const match = SHORT_ID.exec(ref)
  return match ? idUrl(baseUrl, match[1]!.toLowerCase(), ref) : ref
}

/** The CTIM document served for a stored entity. */
export function renderEntity(entity: CtiaEntity, baseUrl: string): Record<string, unknown> {
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

interface ValidationItem {
  instancePath?: string
  message?: string
  keyword?: string
  params?: { keys?: string[] }
}

/**
 * Error handler of the `/ctia` scope, answering in CTIA's shapes (reference §2 notes):
 * 400 `{"error":"Spec Validation Client Error","type":"Invalid Entity Error","message"}`,
 * 404 empty or `{"error":"<entity> not found"}`, 500 `{"type":"unknown-exception","class"}`.
 * Authentication and scope refusals keep the IROH shapes the auth layer sends.
 */
export async function ctiaErrorHandler(
  error: Error & { validation?: ValidationItem[]; statusCode?: number },
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
  if (Array.isArray(error.validation)) {
    const where = (error as { validationContext?: string }).validationContext ?? 'body'
    const message = error.validation
      .map((item) => {
        const path = (item.instancePath ?? '')
          .split('/')
          .filter((p) => p.length > 0)
          .map((p) => (/^\d+$/.test(p) ? p : `:${p}`))
        const keys = item.keyword === 'unrecognized_keys' ? item.params?.keys : undefined
        return keys
          ? `In: [${path.join(' ')}] (${where}) fails spec: disallowed keys ${keys.join(', ')}`
          : `In: [${path.join(' ')}] (${where}) fails spec: ${item.message ?? 'invalid'}`
      })
      .join('\n')
    await reply
      .code(400)
      .send({ error: 'Spec Validation Client Error', type: 'Invalid Entity Error', message })
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
