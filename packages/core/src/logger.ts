import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger } from 'pino'

/**
 * Keys whose values never reach a log line: at the top of a logged object, one level below it
 * (`{ client: { secret } }`), and in request headers (`headers`, `req.headers`). Secrets are also
 * never passed to loggers on purpose; this is the safety net for objects that carry them by
 * accident.
 */
export const SECRET_LOG_KEYS: ReadonlySet<string> = new Set([
  'password',
  'secret',
  'token',
  'clientSecret',
  'client_secret',
  'accessToken',
  'access_token',
  'credential',
  'authorization',
])

/** Header names whose values never reach a log line (under `headers` or `req.headers`). */
const SECRET_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie'])

/** What is censored inside `headers`: the secret headers and the keys censored everywhere. */
const SECRET_HEADERS_AND_KEYS: ReadonlySet<string> = new Set([
  ...SECRET_LOG_KEYS,
  ...SECRET_HEADERS,
])

const CENSOR = '[redacted]'

type LogObject = Record<string, unknown>

function isObject(value: unknown): value is LogObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * A shallow copy to censor that keeps what the object is: its prototype (getters, an error's
 * type) and its non-enumerable properties (an error's message and stack).
 */
function copyOf(object: LogObject): LogObject {
  const copy = Object.create(Object.getPrototypeOf(object) as object | null) as LogObject
  return Object.defineProperties(copy, Object.getOwnPropertyDescriptors(object))
}

/** Sets an own, enumerable value (shadowing a getter the prototype may have). */
function put(object: LogObject, key: string, value: unknown): void {
  Object.defineProperty(object, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  })
}

/** `object` with the values of `keys` censored; the same object when it holds none of them. */
function censorKeys(object: LogObject, keys: ReadonlySet<string>): LogObject {
  let copy: LogObject | undefined
  for (const key of Object.keys(object)) {
    if (keys.has(key)) put((copy ??= copyOf(object)), key, CENSOR)
  }
  return copy ?? object
}

/** A nested object of a log line with its secrets censored (one level, headers two). */
function censorNested(key: string, value: LogObject): LogObject {
  const censored = censorKeys(value, key === 'headers' ? SECRET_HEADERS_AND_KEYS : SECRET_LOG_KEYS)
  if (key !== 'req' || !isObject(censored.headers)) return censored
  const headers = censorKeys(censored.headers, SECRET_HEADERS)
  if (headers === censored.headers) return censored
  const copy = censored === value ? copyOf(censored) : censored
  put(copy, 'headers', headers)
  return copy
}

/**
 * The log object with secret values replaced by `[redacted]`, copied only when it holds one.
 * Ours rather than pino's `redact` option: that one runs a redaction function over every value
 * of every line (its wildcard paths), which tripled the cost of a log line on the SMTP hot path;
 * this is a key lookup per property and no copy for the lines that carry no secret (all of them,
 * by intent).
 */
export function redactSecrets(object: LogObject): LogObject {
  let copy: LogObject | undefined
  for (const key of Object.keys(object)) {
    const value = object[key]
    let replacement = value
    if (SECRET_LOG_KEYS.has(key)) replacement = CENSOR
    else if (isObject(value)) replacement = censorNested(key, value)
    if (replacement !== value) put((copy ??= copyOf(object)), key, replacement)
  }
  return copy ?? object
}

/**
 * Lines are gathered up to 4 KiB, or for at most 100 ms, before one write: a busy gateway logs
 * a few lines per message, and a write per line was a measurable share of the SMTP event loop.
 * Pending lines are written when the process exits (pino flushes on exit); a `kill -9` can lose
 * the last 100 ms of lines, never mail (the spool does not depend on logs).
 */
const BUFFERED = { sync: false, minLength: 4096, periodicFlush: 100 } as const

/**
 * The same censoring for child logger bindings, which pino passes through serializers (looked
 * up by key, so only a binding named like a secret pays anything) but not through
 * `formatters.log`: a secret key, and the secret headers of a `headers` or `req` binding.
 */
const SECRET_SERIALIZERS: Record<string, (value: unknown) => unknown> = {
  ...Object.fromEntries([...SECRET_LOG_KEYS].map((key) => [key, () => CENSOR])),
  headers: (value) => (isObject(value) ? censorNested('headers', value) : value),
  req: (value) => (isObject(value) ? censorNested('req', value) : value),
}

export interface LoggerOptions {
  /** `fatal` … `trace`, or `silent`. */
  level?: string
  /** Name of the app or component, added to every line as `name`. */
  name?: string
  /** Where lines go; stdout when omitted. */
  destination?: DestinationStream
}

/**
 * The root logger of a process. Components take a child logger carrying their ids
 * (`logger.child({ mid, icid })`) instead of building their own.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      name: options.name,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: redactSecrets },
      serializers: SECRET_SERIALIZERS,
    },
    options.destination ?? pino.destination({ fd: 1, ...BUFFERED }),
  )
}

/** A logger that drops everything, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}

/** A log destination appending JSON lines to a file (created with its directory). */
export function fileDestination(path: string): DestinationStream {
  return pino.destination({ dest: path, mkdir: true, ...BUFFERED })
}
