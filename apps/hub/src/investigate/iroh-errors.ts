import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { irohValidationBody } from '@postern/ctim'
import { isAppError } from '@postern/core'
import { defaultErrorHandler } from '@postern/http'
import type { z } from 'zod'
import { unknownExceptionBody } from '../auth/iroh-errors.js'

/**
 * Errors of the `/iroh/...` investigate routes in the shapes Threat Response clients know
 * (reference §1 "IROH error bodies"): a schema error is a compojure-api map keyed by field
 * (`{"content":"missing-required-key"}`), an unexpected failure is `unknown-exception` with the
 * trace id. Coded application errors keep the hub's usual body.
 */
export class IrohValidationError extends Error {
  constructor(readonly body: unknown) {
    super('IROH request validation failed')
  }
}

/** Validates `input` or throws the compojure-api 400 body. */
export function parseIroh<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input)
  if (!parsed.success) {
    throw new IrohValidationError(positional(irohValidationBody(parsed.error, input), input))
  }
  return parsed.data
}

/**
 * A body that is a list gets its errors as a list, `null` for valid items, as compojure-api
 * answers `[{"type":"ip"}]` with `[{"value":"missing-required-key"}]`.
 */
function positional(body: unknown, input: unknown): unknown {
  if (!Array.isArray(input) || !body || typeof body !== 'object' || Array.isArray(body)) return body
  const entries = Object.entries(body as Record<string, unknown>)
  if (!entries.every(([key]) => /^\d+$/.test(key))) return body
  const list: unknown[] = []
  for (const [key, value] of entries) {
    const index = Number(key)
    while (list.length < index) list.push(null)
    list[index] = value
  }
  return list
}

/** Error handler for a fastify scope holding IROH routes. */
export async function irohErrorHandler(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  if (error instanceof IrohValidationError) {
    // Always JSON, also when the body is a single message string.
    await reply.code(400).type('application/json; charset=utf-8').send(JSON.stringify(error.body))
    return
  }
  const status = (error as { statusCode?: number }).statusCode
  if (status === 400 || status === 415) {
    // Unparseable JSON or a wrong content type: the body never reached the schema.
    await reply.code(400).send({ body: 'malformed-json-body' })
    return
  }
  if (isAppError(error) || status === 413) {
    await defaultErrorHandler(error, request, reply)
    return
  }
  request.log.error({ event: 'IROH_ROUTE_FAILED', err: error }, 'IROH route failed')
  await reply.code(500).send(unknownExceptionBody(request.id))
}
