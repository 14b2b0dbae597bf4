import { randomUUID } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import helmet from '@fastify/helmet'
import swagger from '@fastify/swagger'
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod'
import { isAppError, type Logger } from '@postern/core'
import { httpErrors } from './http-errors.js'

export type HttpApp = FastifyInstance<
  Server,
  IncomingMessage,
  ServerResponse,
  Logger,
  ZodTypeProvider
>

export interface HttpAppOptions {
  logger: Logger
  /** Shown in the OpenAPI document. */
  title: string
  description: string
  version: string
  /** Largest accepted request body in bytes (default 1 MiB). */
  bodyLimit?: number
  /** Trust X-Forwarded-* from these proxies (fastify's trustProxy). */
  trustProxy?: boolean | string | string[]
}

/**
 * A fastify instance with what every Postern API needs: request ids in every log line, zod
 * validation and serialisation, the OpenAPI document at `/api/v1/openapi.json`, strict security
 * headers, and one error mapping (coded `AppError` → its status and `{error:{code,message,hint}}`).
 * Routes that must answer in another shape (the CTIM-compatible ones) set their own error
 * handler inside their plugin scope.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  const app = Fastify({
    loggerInstance: options.logger,
    genReqId: () => randomUUID(),
    // One line per request is written by the onResponse hook below, with the route pattern
    // instead of the raw URL (which may carry observables or tokens in its query).
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    trustProxy: options.trustProxy ?? false,
    return503OnClosing: true,
  }).withTypeProvider<ZodTypeProvider>() as unknown as HttpApp

  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
      },
    },
    crossOriginEmbedderPolicy: false,
  })

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.title, description: options.description, version: options.version },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT or API token' },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  })
  app.get('/api/v1/openapi.json', { schema: { hide: true }, config: { public: true } }, async () =>
    app.swagger(),
  )

  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        event: 'HTTP_REQUEST',
        method: request.method,
        url: request.routeOptions.url ?? request.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request done',
    )
  })

  app.setNotFoundHandler(async (request, reply) => {
    const err = httpErrors.NOT_FOUND({ method: request.method, url: request.url.split('?')[0] })
    return reply.code(404).send(err.toJSON())
  })

  app.setErrorHandler(defaultErrorHandler)
  return app
}

/** Maps any thrown value to our error body. Exported so that scoped handlers can fall back to it. */
export async function defaultErrorHandler(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  if (isAppError(error)) {
    if (error.status >= 500)
      request.log.error({ err: error, event: 'HTTP_APP_ERROR' }, error.message)
    await reply.code(error.status).send(error.toJSON())
    return
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => ({
      path: v.instancePath || '/',
      message: v.message ?? 'invalid',
    }))
    const coded = httpErrors.VALIDATION({
      issues: issues.map((i) => `${i.path}: ${i.message}`).join('; '),
    })
    await reply
      .code(400)
      .send({ error: { code: coded.code, message: coded.message, hint: coded.hint, issues } })
    return
  }
  const fastifyError = error as FastifyError
  if (fastifyError.statusCode === 413) {
    await reply
      .code(413)
      .send(httpErrors.PAYLOAD_TOO_LARGE({ limit: request.routeOptions.bodyLimit ?? 0 }).toJSON())
    return
  }
  if (fastifyError.statusCode === 429) {
    await reply.code(429).send(httpErrors.RATE_LIMITED().toJSON())
    return
  }
  if (
    fastifyError.statusCode !== undefined &&
    fastifyError.statusCode >= 400 &&
    fastifyError.statusCode < 500
  ) {
    // Malformed JSON, unsupported media type and similar client mistakes fastify detects itself.
    const coded = httpErrors.VALIDATION({ issues: fastifyError.message })
    await reply.code(fastifyError.statusCode).send(coded.toJSON())
    return
  }
  request.log.error({ err: error, event: 'HTTP_UNEXPECTED_ERROR' }, 'unexpected error')
  await reply.code(500).send(httpErrors.INTERNAL({ traceId: request.id }).toJSON())
}
