import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger } from 'pino'

/**
 * Paths whose values never reach a log line. Secrets are also never passed to loggers on
 * purpose; this list is the safety net for objects that carry them by accident.
 */
export const REDACTED_PATHS = [
  'password',
  'secret',
  'token',
  'clientSecret',
  'client_secret',
  'accessToken',
  'access_token',
  'credential',
  'authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.clientSecret',
  '*.client_secret',
  '*.accessToken',
  '*.access_token',
  '*.credential',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
]

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
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  )
}

/** A logger that drops everything, for tests and library defaults. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}

/** A log destination appending JSON lines to a file (created with its directory). */
export function fileDestination(path: string): DestinationStream {
  return pino.destination({ dest: path, sync: false, mkdir: true })
}
