import { isAppError } from '@postern/core'
import type { RelayError } from './contract.js'
import { relayErrors } from './errors.js'

/**
 * Error entries as they travel in relay answers. Codes are the lower-case phrases the public
 * relay modules use (`authorization failed`, `invalid payload received`, `oops`); messages carry
 * the reason.
 */

const AUTH_ERRORS = [
  relayErrors.AUTH_HEADER_MISSING,
  relayErrors.AUTH_WRONG_TYPE,
  relayErrors.JWT_WRONG_STRUCTURE,
  relayErrors.JWT_WRONG_PAYLOAD,
  relayErrors.JWKS_HOST_MISSING,
  relayErrors.JWKS_HOST_WRONG,
  relayErrors.KID_NOT_FOUND,
  relayErrors.JWT_WRONG_KEY,
  relayErrors.JWT_WRONG_AUDIENCE,
  relayErrors.JWT_EXPIRED,
]

/**
 * Thrown by a module handler to answer with a specific error entry instead of the generic one,
 * e.g. when the module's own upstream refuses it.
 *
 * @example
 * throw new RelayFailure({ code: 'too many requests', message: 'Rate limit reached; retry in 60 s.', type: 'fatal' })
 */
export class RelayFailure extends Error {
  readonly entry: RelayError

  constructor(entry: RelayError) {
    super(entry.message)
    this.name = 'RelayFailure'
    this.entry = entry
  }
}

/**
 * The `errors` entry for a thrown value.
 *
 * @example
 * relayErrorEntry(relayErrors.AUTH_HEADER_MISSING())
 * // { code: 'authorization failed', message: 'Authorization failed: Authorization header is missing', type: 'fatal' }
 */
export function relayErrorEntry(err: unknown): RelayError {
  if (err instanceof RelayFailure) return err.entry
  if (isAppError(err)) {
    if (AUTH_ERRORS.some((factory) => factory.is(err))) {
      return {
        code: 'authorization failed',
        message: `Authorization failed: ${err.message}`,
        type: 'fatal',
      }
    }
    if (relayErrors.INVALID_PAYLOAD.is(err)) {
      return { code: 'invalid payload received', message: err.message, type: 'fatal' }
    }
  }
  return { code: 'oops', message: 'Something went wrong.', type: 'fatal' }
}

/** Whether a thrown value is one of the module's own expected answers (not a bug to log as such). */
export function isExpectedRelayError(err: unknown): boolean {
  return (
    err instanceof RelayFailure ||
    (isAppError(err) &&
      (AUTH_ERRORS.some((factory) => factory.is(err)) || relayErrors.INVALID_PAYLOAD.is(err)))
  )
}

/**
 * JSON as Python's `json.dumps` writes it (`", "` and `": "` separators, non-ASCII escaped), so
 * that "Invalid JSON payload received. {…}." reads exactly as the public relay modules write it.
 *
 * @example
 * pythonJsonDumps({ 0: { value: ['Field may not be blank.'] } }) // '{"0": {"value": ["Field may not be blank."]}}'
 */
export function pythonJsonDumps(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([key, item]) => `${asciiJson(key)}: ${pythonJsonDumps(item)}`)
      .join(', ')}}`
  }
  return typeof value === 'string' ? asciiJson(value) : (JSON.stringify(value) ?? 'null')
}

function asciiJson(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}
