/**
 * Coded errors. Every package declares one catalog (`src/errors.ts`) with `defineErrors`; code
 * outside a catalog never builds an error message by hand. `docs/errors.md` is generated from
 * the catalogs and a test keeps it in sync, so every code a user can see is documented with
 * what to do next.
 */

/** An SMTP reply: basic code (RFC 5321 §4.2) and enhanced status code (RFC 3463). */
export interface SmtpReply {
  code: number
  enhanced: string
}

export interface ErrorSpec {
  /** Message template; `{name}` placeholders are filled from the error's params. */
  message: string
  /** What the operator or caller should do next. Shown in CLIs, logs and API bodies. */
  hint: string
  /** HTTP status when the error leaves through an API. */
  status?: number
  /** SMTP reply when the error leaves through an SMTP session. */
  smtp?: SmtpReply
}

export type ErrorParams = Record<string, string | number | boolean | undefined | null>

export class AppError extends Error {
  readonly code: string
  readonly hint: string
  readonly status: number
  readonly smtp: SmtpReply | undefined
  readonly params: ErrorParams

  constructor(
    code: string,
    spec: ErrorSpec,
    params: ErrorParams = {},
    options: { cause?: unknown } = {},
  ) {
    super(formatTemplate(spec.message, params), { cause: options.cause })
    this.name = 'AppError'
    this.code = code
    this.hint = formatTemplate(spec.hint, params)
    this.status = spec.status ?? 500
    this.smtp = spec.smtp
    this.params = params
  }

  /** The shape every HTTP API of ours returns for a coded error (outside the CTIM-compatible routes). */
  toJSON(): { error: { code: string; message: string; hint: string } } {
    return { error: { code: this.code, message: this.message, hint: this.hint } }
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError
}

type ErrorFactory = ((params?: ErrorParams, options?: { cause?: unknown }) => AppError) & {
  readonly code: string
  readonly spec: ErrorSpec
  /** True when `err` was made by this factory. */
  is(err: unknown): err is AppError
}

export type ErrorCatalog<K extends string> = { readonly [P in K]: ErrorFactory }

export interface CatalogEntry {
  code: string
  spec: ErrorSpec
}

const registeredCatalogs = new Map<string, CatalogEntry[]>()

/**
 * Declares a package's error catalog. `prefix` is the package's code prefix (`CORE`, `STORE`,
 * `GW`, `HUB`, …); each key becomes `<PREFIX>_ERR_<KEY>`.
 *
 * @example
 * export const errors = defineErrors('GW', {
 *   SPOOL_FULL: { message: 'Spool disk is full', hint: 'Free disk space in {dir}', smtp: { code: 452, enhanced: '4.3.1' } },
 * })
 * throw errors.SPOOL_FULL({ dir })
 */
export function defineErrors<K extends string>(
  prefix: string,
  specs: Record<K, ErrorSpec>,
): ErrorCatalog<K> {
  const catalog = {} as Record<K, ErrorFactory>
  const entries: CatalogEntry[] = []
  for (const key of Object.keys(specs) as K[]) {
    const spec = specs[key]
    const code = `${prefix}_ERR_${key}`
    const factory = ((params?: ErrorParams, options?: { cause?: unknown }) =>
      new AppError(code, spec, params, options)) as ErrorFactory
    Object.defineProperties(factory, {
      code: { value: code },
      spec: { value: spec },
      is: { value: (err: unknown) => err instanceof AppError && err.code === code },
    })
    catalog[key] = factory
    entries.push({ code, spec })
  }
  registeredCatalogs.set(prefix, entries)
  return catalog
}

/** Every catalog loaded so far, keyed by prefix (used to generate `docs/errors.md`). */
export function listErrorCatalogs(): ReadonlyMap<string, readonly CatalogEntry[]> {
  return registeredCatalogs
}

function formatTemplate(template: string, params: ErrorParams): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name]
    return value === undefined || value === null ? whole : String(value)
  })
}

/** A short, safe description of any thrown value, for logs. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message
  return typeof err === 'string' ? err : JSON.stringify(err)
}
