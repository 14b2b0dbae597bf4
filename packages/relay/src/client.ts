import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Observable } from '@postern/ctim'
import type { z } from 'zod'
import {
  ActionSchema,
  DeliberateDataSchema,
  HealthDataSchema,
  ObserveDataSchema,
  RELAY_ROUTES,
  RefSchema,
  TriggerDataSchema,
  relayAnswerSchema,
  type Action,
  type DeliberateData,
  type HealthData,
  type ObserveData,
  type Ref,
  type RelayError,
  type RelayRoute,
  type TriggerData,
} from './contract.js'
import { relayErrors } from './errors.js'
import { moduleAudience } from './tokens.js'

/**
 * The hub's side of the relay contract: call a module with a fresh token, a per-call timeout and
 * the caller's abort signal, and get back either the module's data or error entries ready for the
 * enrich envelope. Transport failures (timeout, refused connection, non-200, a body that is not
 * the contract, an oversized answer) become error entries too: one failing module never fails the
 * whole fan-out.
 */

/** The outcome of one call. `errors` may accompany data (a partial answer). */
export type RelayCallResult<T> =
  | { ok: true; data: T; errors: RelayError[]; status: number; durationMs: number }
  | { ok: false; data?: T; errors: RelayError[]; status?: number; durationMs: number }

export interface RelayClientOptions {
  /** The module URL (module instance `url`); routes are appended to it. */
  url: string
  /** Supplies the bearer token for each call (mint per call: `aud` is the module URL). */
  token?: () => string | Promise<string>
  /** Default time a call may take, in ms (default 15 000). */
  timeoutMs?: number
  /** Largest answer accepted, in bytes (default 10 MiB): a module must not be able to exhaust the hub. */
  maxResponseBytes?: number
  /** Extra headers, e.g. `user-agent`. */
  headers?: Record<string, string>
  /** CA certificates to trust for an HTTPS module with a private CA (PEM). */
  ca?: string | Buffer
}

export interface CallOptions {
  /** Aborts the call (e.g. the analyst's request went away). */
  signal?: AbortSignal
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number
}

export interface RelayClient {
  readonly url: string
  health(options?: CallOptions): Promise<RelayCallResult<HealthData>>
  observe(observables: Observable[], options?: CallOptions): Promise<RelayCallResult<ObserveData>>
  deliberate(
    observables: Observable[],
    options?: CallOptions,
  ): Promise<RelayCallResult<DeliberateData>>
  refer(observables: Observable[], options?: CallOptions): Promise<RelayCallResult<Ref[]>>
  respondObservables(
    observables: Observable[],
    options?: CallOptions,
  ): Promise<RelayCallResult<Action[]>>
  respondTrigger(
    request: { 'action-id': string; observable_type: string; observable_value: string } & Record<
      string,
      unknown
    >,
    options?: CallOptions,
  ): Promise<RelayCallResult<TriggerData>>
}

function entry(
  error: ReturnType<(typeof relayErrors)[keyof typeof relayErrors]>,
  code: string,
): RelayError {
  return { code, message: error.message, type: 'fatal' }
}

class TooLarge extends Error {}

/**
 * One POST with node:http(s). Not `fetch`: aborting a fetch whose answer has started leaves the
 * socket to undici's pool, and a hub that times out slow modules all day must close those
 * connections for real — `request.destroy()` does.
 */
function postJson(
  url: URL,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal,
  maxBytes: number,
  ca: string | Buffer | undefined,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    const request = send(
      url,
      { method: 'POST', headers, signal, ...(ca !== undefined ? { ca } : {}) },
      (response) => {
        const tooLarge = (what: string) => {
          request.destroy()
          reject(new TooLarge(what))
        }
        const declared = Number(response.headers['content-length'] ?? NaN)
        if (Number.isFinite(declared) && declared > maxBytes) {
          tooLarge(`answer of ${declared} bytes is larger than ${maxBytes}`)
          return
        }
        const chunks: Buffer[] = []
        let total = 0
        response.on('data', (chunk: Buffer) => {
          total += chunk.length
          if (total > maxBytes) tooLarge(`answer larger than ${maxBytes} bytes`)
          else chunks.push(chunk)
        })
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        response.on('error', reject)
      },
    )
    request.on('error', reject)
    request.end(body)
  })
}

/**
 * Makes a client for one module.
 *
 * @example
 * const client = createRelayClient({
 *   url: instance.url,
 *   token: () => mintConfigurationToken({ key, jwksHost: 'hub.example.com', moduleUrl: instance.url, settings: instance.settings }),
 *   timeoutMs: 10_000,
 * })
 * const result = await client.observe([{ type: 'domain', value: 'evil.com' }], { signal: request.signal })
 * if (result.ok) merge(result.data); else errors.push(...result.errors)
 */
export function createRelayClient(options: RelayClientOptions): RelayClient {
  const base = moduleAudience(options.url)
  const maxBytes = options.maxResponseBytes ?? 10 * 1024 * 1024

  async function call<T>(
    route: RelayRoute,
    body: unknown,
    schema: z.ZodType<T>,
    callOptions: CallOptions = {},
  ): Promise<RelayCallResult<T>> {
    const started = performance.now()
    const elapsed = () => Math.round(performance.now() - started)
    const timeoutMs = callOptions.timeoutMs ?? options.timeoutMs ?? 15_000
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = callOptions.signal ? AbortSignal.any([callOptions.signal, timeout]) : timeout
    const url = `${base}${RELAY_ROUTES[route]}`
    const failure = (error: RelayError, status?: number): RelayCallResult<T> => ({
      ok: false,
      errors: [error],
      ...(status !== undefined ? { status } : {}),
      durationMs: elapsed(),
    })

    let authorization: string | undefined
    try {
      if (options.token) authorization = `Bearer ${await options.token()}`
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      return failure({ code: 'module misconfigured', message, type: 'fatal' })
    }

    let status: number
    let text: string
    try {
      const headers: Record<string, string> = { accept: 'application/json', ...options.headers }
      // Body-less routes (health, tiles) get no body and no content type, as the platform sends
      // them: some module frameworks refuse an empty JSON body.
      const payload = body === undefined ? undefined : JSON.stringify(body)
      if (payload !== undefined) headers['content-type'] = 'application/json'
      headers['content-length'] = String(payload === undefined ? 0 : Buffer.byteLength(payload))
      if (authorization !== undefined) headers.authorization = authorization
      ;({ status, text } = await postJson(
        new URL(url),
        headers,
        payload,
        signal,
        maxBytes,
        options.ca,
      ))
    } catch (err) {
      if (callOptions.signal?.aborted)
        return failure(entry(relayErrors.CALL_ABORTED(), 'call aborted'))
      if (timeout.aborted)
        return failure(entry(relayErrors.MODULE_TIMEOUT({ timeoutMs }), 'module timeout'))
      const reason = err instanceof Error ? err.message : String(err)
      return failure(
        err instanceof TooLarge
          ? entry(relayErrors.MODULE_BAD_RESPONSE({ reason }), 'invalid module response')
          : entry(relayErrors.MODULE_UNREACHABLE({ url: base, reason }), 'module unreachable'),
      )
    }

    if (status !== 200) {
      return failure(
        entry(
          relayErrors.MODULE_BAD_RESPONSE({ reason: `HTTP ${status} instead of 200` }),
          'invalid module response',
        ),
        status,
      )
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return failure(
        entry(
          relayErrors.MODULE_BAD_RESPONSE({ reason: 'the body is not JSON' }),
          'invalid module response',
        ),
        200,
      )
    }
    const parsed = relayAnswerSchema(schema).safeParse(json)
    if (!parsed.success) {
      const where = parsed.error.issues
        .slice(0, 3)
        .map((issue) => `${issue.path.join('.') || '(answer)'}: ${issue.message}`)
        .join('; ')
      return failure(
        entry(relayErrors.MODULE_BAD_RESPONSE({ reason: where }), 'invalid module response'),
        200,
      )
    }
    const errors = (parsed.data.errors ?? []) as RelayError[]
    const data = parsed.data.data as T | undefined
    if (data === undefined) return { ok: false, errors, status: 200, durationMs: elapsed() }
    return { ok: true, data, errors, status: 200, durationMs: elapsed() }
  }

  const observablesBody = (observables: Observable[]) =>
    observables.map(({ type, value }) => ({ type, value }))

  return {
    url: base,
    health: (callOptions) => call('health', undefined, HealthDataSchema, callOptions),
    observe: (observables, callOptions) =>
      call('observe', observablesBody(observables), ObserveDataSchema, callOptions),
    deliberate: (observables, callOptions) =>
      call('deliberate', observablesBody(observables), DeliberateDataSchema, callOptions),
    refer: (observables, callOptions) =>
      call('refer', observablesBody(observables), RefSchema.array(), callOptions),
    respondObservables: (observables, callOptions) =>
      call('respondObservables', observablesBody(observables), ActionSchema.array(), callOptions),
    respondTrigger: (request, callOptions) =>
      call('respondTrigger', request, TriggerDataSchema, callOptions),
  }
}
