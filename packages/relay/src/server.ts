import { tryNormalizeObservable, type Observable } from '@postern/ctim'
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifyTypeProvider,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
} from 'fastify'
import type { z } from 'zod'
import {
  createConfigurationTokenVerifier,
  type ConfigurationTokenOptions,
  type VerifiedToken,
} from './auth.js'
import {
  ObservablesRequestSchema,
  RELAY_ROUTES,
  SUPPORTED_API_NAMES,
  TileDataRequestSchema,
  TileRequestSchema,
  TriggerRequestSchema,
  marshmallowErrors,
  type Action,
  type DeliberateData,
  type HealthData,
  type ObserveData,
  type Ref,
  type RelayError,
  type RelayResult,
  type RelayRoute,
  type TriggerData,
  type TriggerRequest,
} from './contract.js'
import { relayErrors } from './errors.js'
import { isExpectedRelayError, pythonJsonDumps, relayErrorEntry } from './wire.js'

/**
 * Serving the relay contract: give {@link mountRelayModule} an implementation of the routes the
 * module supports and it answers them on a fastify instance exactly as the contract says —
 * always HTTP 200, `{data}` or `{errors}`, blank fields refused in the relay template's words,
 * RS256 configuration tokens verified. {@link dispatchRelayCall} is the same without HTTP, for
 * transports that carry relay calls another way (the gateway↔hub tunnel).
 */

/** What every handler gets besides its input. */
export interface RelayContext {
  /** The module instance settings from the token (`key`, …); `{}` without token auth. */
  config: Record<string, unknown>
  /** The verified token claims, when token auth is on. */
  claims?: VerifiedToken['claims']
  /** Aborted when the caller goes away: stop work that nobody will read. */
  signal: AbortSignal
  log: FastifyBaseLogger
}

type Handler<I, O> = (input: I, ctx: RelayContext) => Promise<RelayResult<O>>

/**
 * A relay module: implement the routes it supports. `health` answers `{status: "ok"}` when not
 * given. Observables arrive validated and, where their type allows, in canonical form
 * (`normalizeObservable`).
 */
export interface RelayModule {
  health?: (ctx: RelayContext) => Promise<RelayResult<HealthData>>
  observe?: Handler<Observable[], ObserveData>
  deliberate?: Handler<Observable[], DeliberateData>
  refer?: Handler<Observable[], Ref[]>
  respondObservables?: Handler<Observable[], Action[]>
  respondTrigger?: Handler<TriggerRequest, TriggerData>
  tiles?: (ctx: RelayContext) => Promise<RelayResult<unknown[]>>
  tile?: Handler<{ tile_id: string } & Record<string, unknown>, unknown>
  tileData?: Handler<{ tile_id: string; period: string } & Record<string, unknown>, unknown>
}

/** A relay answer as it goes on the wire. */
export interface RelayAnswer {
  data?: unknown
  errors?: RelayError[]
}

/**
 * The `supported-apis` list for the module type's properties.
 *
 * @example
 * supportedApis(gatewayModule) // ['health', 'observe/observables', 'deliberate/observables', …]
 */
export function supportedApis(module: RelayModule): string[] {
  const names: string[] = ['health']
  for (const route of Object.keys(SUPPORTED_API_NAMES) as RelayRoute[]) {
    if (route !== 'health' && module[route as keyof RelayModule] !== undefined) {
      names.push(SUPPORTED_API_NAMES[route] as string)
    }
  }
  return names
}

function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body)
  if (!parsed.success) {
    throw relayErrors.INVALID_PAYLOAD({ details: pythonJsonDumps(marshmallowErrors(parsed.error)) })
  }
  return parsed.data
}

function canonical(observables: Observable[]): Observable[] {
  return observables.map((observable) => {
    const normalized = tryNormalizeObservable(observable)
    return normalized.ok ? normalized.observable : observable
  })
}

function answer<T>(result: RelayResult<T>): RelayAnswer {
  return result.errors !== undefined && result.errors.length > 0
    ? { data: result.data, errors: result.errors }
    : { data: result.data }
}

/**
 * Runs one relay call against a module: validates the body, calls the handler, and turns every
 * outcome — including a thrown error — into the answer to send. Never throws.
 *
 * @example
 * const reply = await dispatchRelayCall(module, 'observe', frame.body, { config: {}, signal, log })
 */
export async function dispatchRelayCall(
  module: RelayModule,
  route: RelayRoute,
  body: unknown,
  ctx: RelayContext,
): Promise<RelayAnswer> {
  try {
    switch (route) {
      case 'health':
        return answer(module.health ? await module.health(ctx) : { data: { status: 'ok' } })
      case 'observe':
      case 'deliberate':
      case 'refer':
      case 'respondObservables': {
        const handler = module[route] as Handler<Observable[], unknown> | undefined
        if (handler === undefined) return { errors: [notSupported(route)] }
        return answer(await handler(canonical(validate(ObservablesRequestSchema, body)), ctx))
      }
      case 'respondTrigger':
        if (module.respondTrigger === undefined) return { errors: [notSupported(route)] }
        return answer(await module.respondTrigger(validate(TriggerRequestSchema, body), ctx))
      case 'tiles':
        if (module.tiles === undefined) return { errors: [notSupported(route)] }
        return answer(await module.tiles(ctx))
      case 'tile':
        if (module.tile === undefined) return { errors: [notSupported(route)] }
        return answer(await module.tile(validate(TileRequestSchema, body), ctx))
      case 'tileData':
        if (module.tileData === undefined) return { errors: [notSupported(route)] }
        return answer(await module.tileData(validate(TileDataRequestSchema, body), ctx))
      case 'version':
      case 'watchdog':
        return { errors: [notSupported(route)] }
    }
  } catch (err) {
    if (isExpectedRelayError(err)) {
      ctx.log.info(
        { event: 'RELAY_CALL_REFUSED', route, code: relayErrorEntry(err).code },
        'relay call refused',
      )
    } else {
      ctx.log.error({ event: 'RELAY_HANDLER_FAILED', route, err }, 'relay module handler failed')
    }
    return { errors: [relayErrorEntry(err)] }
  }
}

function notSupported(route: RelayRoute): RelayError {
  return {
    code: 'not supported',
    message: `This module does not support ${RELAY_ROUTES[route]}.`,
    type: 'fatal',
  }
}

export type RelayAuthOptions =
  | ({
      type: 'configuration-token'
      /**
       * The module URL tokens must be minted for (their `aud`), without trailing slash. Default:
       * the URL the request came to (protocol, host and mount prefix), as the relay template does.
       */
      audience?: string | ((request: FastifyRequest) => string)
    } & ConfigurationTokenOptions)
  | {
      /** No token check: only for transports that authenticate the caller themselves. */
      type: 'none'
    }

export interface MountOptions {
  auth: RelayAuthOptions
  /** Path the module is served under, e.g. `/relay` (default: the root). */
  prefix?: string
  /** Answer of `POST /version` (no auth), e.g. the package version. */
  version?: string
  /** Largest accepted body in bytes (default 1 MiB). */
  bodyLimit?: number
}

/**
 * Serves a module on a fastify instance. Routes are registered in their own plugin scope with
 * their own body parser (any content type, empty body allowed, as the relay template reads it)
 * and `config: { public: true }` so that the app's user authentication leaves them to the
 * token check.
 *
 * @example
 * await mountRelayModule(app, gatewayModule, {
 *   prefix: '/relay',
 *   version: '1.0.0',
 *   auth: { type: 'configuration-token', trustedJwksHosts: ['hub.example.com'], audience: 'https://gw1.example.com/relay' },
 * })
 */
export async function mountRelayModule<
  Server extends RawServerBase,
  Logger extends FastifyBaseLogger,
  TypeProvider extends FastifyTypeProvider,
>(
  app: FastifyInstance<
    Server,
    RawRequestDefaultExpression<Server>,
    RawReplyDefaultExpression<Server>,
    Logger,
    TypeProvider
  >,
  module: RelayModule,
  options: MountOptions,
): Promise<void> {
  const prefix = (options.prefix ?? '').replace(/\/+$/, '')
  const auth = options.auth
  const verify = auth.type === 'configuration-token' ? createConfigurationTokenVerifier(auth) : null
  const audienceOf = (request: FastifyRequest): string => {
    if (auth.type !== 'configuration-token' || auth.audience === undefined) {
      return `${request.protocol}://${request.host}${prefix}`
    }
    return typeof auth.audience === 'string' ? auth.audience : auth.audience(request)
  }

  const routes: RelayRoute[] = [
    'health',
    'observe',
    'deliberate',
    'refer',
    'respondObservables',
    'respondTrigger',
    'tiles',
    'tile',
    'tileData',
  ]
  const mounted = routes.filter(
    (route) => route === 'health' || module[route as keyof RelayModule] !== undefined,
  )

  await app.register(
    async (scope) => {
      scope.removeAllContentTypeParsers()
      scope.addContentTypeParser(
        '*',
        { parseAs: 'string', bodyLimit: options.bodyLimit ?? 1024 * 1024 },
        (_request, body, done) => done(null, body),
      )

      const send = async (reply: FastifyReply, payload: unknown) =>
        reply
          .code(200)
          .header('content-type', 'application/json; charset=utf-8')
          .send(JSON.stringify(payload))

      for (const route of mounted) {
        scope.post(RELAY_ROUTES[route], { config: { public: true } }, async (request, reply) => {
          const controller = new AbortController()
          reply.raw.once('close', () => {
            if (!reply.raw.writableFinished) controller.abort()
          })
          const log = request.log.child({ relayRoute: RELAY_ROUTES[route] })
          let ctx: RelayContext
          try {
            const verified =
              verify === null
                ? null
                : await verify(request.headers.authorization, audienceOf(request))
            ctx = {
              config: verified?.config ?? {},
              ...(verified !== null ? { claims: verified.claims } : {}),
              signal: controller.signal,
              log,
            }
          } catch (err) {
            log.warn(
              {
                event: 'RELAY_AUTH_FAILED',
                reason: err instanceof Error ? err.message : String(err),
              },
              'relay call refused',
            )
            return send(reply, { errors: [relayErrorEntry(err)] })
          }
          let body: unknown
          const raw = typeof request.body === 'string' ? request.body.trim() : ''
          if (raw !== '') {
            try {
              body = JSON.parse(raw)
            } catch {
              const err = relayErrors.INVALID_PAYLOAD({
                details: '{"_schema": ["Invalid input type."]}',
              })
              return send(reply, { errors: [relayErrorEntry(err)] })
            }
          }
          return send(reply, await dispatchRelayCall(module, route, body, ctx))
        })
      }

      // Unauthenticated utility routes of the relay template.
      scope.post(RELAY_ROUTES.version, { config: { public: true } }, async (_request, reply) =>
        send(reply, { version: options.version ?? '0.0.0' }),
      )
      scope.get(RELAY_ROUTES.watchdog, { config: { public: true } }, async (request, reply) => {
        const check = request.headers['health-check']
        if (typeof check !== 'string' || check === '') {
          return send(reply, {
            errors: [
              { code: 'health check failed', message: 'Invalid Health Check', type: 'fatal' },
            ],
          })
        }
        return send(reply, { data: check })
      })
    },
    { prefix },
  )
}
