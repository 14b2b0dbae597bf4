import { readFileSync } from 'node:fs'
import { parse as parseYaml, YAMLParseError } from 'yaml'
import type { z } from 'zod'
import { coreErrors } from './core-errors.js'

/**
 * Loads a configuration once at start: YAML file → environment overrides → schema validation
 * (unknown keys rejected by the `.strict()` schemas) → deep-frozen object. Packages receive the
 * result; they never read `process.env` themselves.
 */
export interface LoadConfigOptions<S extends z.ZodType> {
  schema: S
  /** Path of the YAML file; omitted means "defaults plus environment only". */
  file?: string | undefined
  /** Environment to read overrides from (pass `process.env` from the app's entry point). */
  env?: Record<string, string | undefined>
  /** Variable prefix; `POSTERN` gives `POSTERN_DATA_DIR` for `dataDir`. */
  envPrefix?: string
  /** Values applied under the file (e.g. a demo's computed defaults). */
  base?: Record<string, unknown>
}

export function loadConfig<S extends z.ZodType>(options: LoadConfigOptions<S>): z.output<S> {
  const fromFile = options.file === undefined ? {} : readYamlFile(options.file)
  const merged = deepMerge(options.base ?? {}, fromFile)
  applyEnvOverrides(merged, options.env ?? {}, options.envPrefix ?? 'POSTERN')
  return validateConfig(options.schema, merged)
}

export function validateConfig<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw)
  if (!result.success) {
    const issues = result.error.issues
      .map((issue) => {
        const path = issue.path.length > 0 ? issue.path.join('.') : '(root)'
        return `  - ${path}: ${issue.message}`
      })
      .join('\n')
    throw coreErrors.CONFIG_INVALID({ issues })
  }
  return deepFreeze(result.data)
}

function readYamlFile(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw coreErrors.CONFIG_FILE_UNREADABLE(
      { path, reason: (err as Error).message },
      { cause: err },
    )
  }
  try {
    const parsed: unknown = parseYaml(text)
    if (parsed === null || parsed === undefined) return {}
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw coreErrors.CONFIG_FILE_SYNTAX({ path, reason: 'the top level must be a mapping' })
    }
    return parsed as Record<string, unknown>
  } catch (err) {
    if (err instanceof YAMLParseError) {
      throw coreErrors.CONFIG_FILE_SYNTAX({ path, reason: err.message }, { cause: err })
    }
    throw err
  }
}

/** `DATA_DIR` → `dataDir`; a number stays a number so that arrays can be addressed. */
function envSegmentToKey(segment: string): string | number {
  if (/^\d+$/.test(segment)) return Number(segment)
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

/** `dataDir` → `DATA_DIR`: the inverse of `envSegmentToKey`, for documentation. */
export function keyToEnvSegment(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
}

/** The variable name that overrides `path` (e.g. `['spool','fsync']` → `POSTERN_SPOOL__FSYNC`). */
export function envNameForPath(path: readonly (string | number)[], prefix = 'POSTERN'): string {
  return `${prefix}_${path.map((p) => (typeof p === 'number' ? String(p) : keyToEnvSegment(p))).join('__')}`
}

function applyEnvOverrides(
  target: Record<string, unknown>,
  env: Record<string, string | undefined>,
  prefix: string,
): void {
  const start = `${prefix}_`
  const names = Object.keys(env)
    .filter((name) => name.startsWith(start) && env[name] !== undefined)
    .sort()
  for (const name of names) {
    const rest = name.slice(start.length)
    if (rest.length === 0) continue
    const path = rest.split('__').map(envSegmentToKey)
    if (path.some((p) => p === '')) {
      throw coreErrors.CONFIG_ENV_INVALID({ name, reason: 'empty path segment' })
    }
    setPath(target, path, parseEnvValue(env[name] as string))
  }
}

/** JSON when it parses (numbers, booleans, arrays, objects), the raw string otherwise. */
function parseEnvValue(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

function setPath(target: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  let node: Record<string | number, unknown> = target
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string | number
    const next = node[key]
    if (next === null || typeof next !== 'object') {
      node[key] = typeof path[i + 1] === 'number' ? [] : {}
    }
    node = node[key] as Record<string | number, unknown>
  }
  node[path[path.length - 1] as string | number] = value
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Right wins; arrays are replaced, not merged (a list in the file replaces the default list). */
export function deepMerge(
  left: Record<string, unknown>,
  right: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...left }
  for (const [key, value] of Object.entries(right)) {
    const existing = out[key]
    out[key] = isPlainObject(existing) && isPlainObject(value) ? deepMerge(existing, value) : value
  }
  return out
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child)
  }
  return value
}
