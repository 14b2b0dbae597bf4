import type { z } from 'zod'

/**
 * Validation error bodies in the shapes existing Threat Response clients know (reference §1–2):
 *
 * - CTIA (`/ctia/...`): `{"error":"Spec Validation Client Error","type":"Invalid Entity Error","message":"…"}`.
 * - IROH (`/iroh/...`), compojure-api style, keyed by field: `{"content":"missing-required-key"}`,
 *   `{"extra":"disallowed-key"}`, `{"tlp":"(not (#{\"red\" …} \"blue\"))"}`; nested fields nest,
 *   list items are positional with `null` for valid items. Profile routes wrap the same map in
 *   `{"errors": …}`.
 *
 * All take the zod error and the input that failed, because zod does not repeat the input in its
 * issues and "missing" must be told apart from "wrong type". Echoed values are cut at 80
 * characters: they come from the caller and may be hostile or huge.
 */

type Issue = z.core.$ZodIssue
type Path = ReadonlyArray<PropertyKey>

/** A compojure-api error tree: a message, a map of field errors, or a positional list. */
export type CompojureErrors =
  string | { [field: string]: CompojureErrors } | Array<CompojureErrors | null>

function valueAt(input: unknown, path: Path): unknown {
  let current: unknown = input
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined
    current = (current as Record<PropertyKey, unknown>)[key as string]
  }
  return current
}

function hasKey(input: unknown, path: Path): boolean {
  if (path.length === 0) return input !== undefined
  const parent = valueAt(input, path.slice(0, -1))
  return (
    parent !== null &&
    typeof parent === 'object' &&
    Object.hasOwn(parent, path[path.length - 1] as string)
  )
}

/** A required key that is absent (zod reports it as a type, enum or union mismatch on `undefined`). */
function isMissing(issue: Issue, input: unknown): boolean {
  return (
    (issue.code === 'invalid_type' ||
      issue.code === 'invalid_value' ||
      issue.code === 'invalid_union') &&
    issue.path.length > 0 &&
    !hasKey(input, issue.path)
  )
}

/** Clojure-ish rendering of a value (`"text"`, `42`, `nil`), cut short. */
function render(value: unknown): string {
  let text: string
  if (value === undefined || value === null) text = 'nil'
  else if (typeof value === 'string') text = JSON.stringify(value)
  else if (typeof value === 'number' || typeof value === 'boolean') text = String(value)
  else text = JSON.stringify(value) ?? 'nil'
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}

const JAVA_TYPES: Record<string, string> = {
  string: 'instance? java.lang.String',
  number: 'instance? java.lang.Number',
  int: 'integer?',
  boolean: 'instance? java.lang.Boolean',
  object: 'map?',
  array: 'sequential?',
}

/** One leaf of the error tree, as plumatic schema would word it. */
function leafMessage(issue: Issue, input: unknown): string {
  const path = issue.path
  const value = valueAt(input, path)
  if (isMissing(issue, input)) return 'missing-required-key'
  switch (issue.code) {
    case 'invalid_type':
      return `(not (${JAVA_TYPES[issue.expected] ?? `instance? ${issue.expected}`} ${render(value)}))`
    case 'invalid_value':
      return issue.values.length === 1
        ? `(not (= ${render(issue.values[0])} ${render(value)}))`
        : `(not (#{${issue.values.map(render).join(' ')}} ${render(value)}))`
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
    case 'not_multiple_of':
    case 'custom':
    case 'invalid_union':
    case 'invalid_key':
    case 'invalid_element':
      return `(not (valid? ${render(value)} "${issue.message.replace(/"/g, "'")}"))`
    case 'unrecognized_keys':
      return 'disallowed-key'
  }
}

function setAt(tree: Record<string, CompojureErrors>, path: Path, message: string): void {
  let node: Record<string, CompojureErrors> | Array<CompojureErrors | null> = tree
  for (let i = 0; i < path.length; i++) {
    const key = path[i] as string | number
    const last = i === path.length - 1
    const nextIsIndex = !last && typeof path[i + 1] === 'number'
    const slot: CompojureErrors | null | undefined = (
      node as Record<string | number, CompojureErrors | null | undefined>
    )[key]
    if (last) {
      if (slot === undefined || slot === null || typeof slot === 'string') {
        ;(node as Record<string | number, CompojureErrors>)[key] = message
      }
      return
    }
    if (slot === undefined || slot === null || typeof slot === 'string') {
      const child: Record<string, CompojureErrors> | Array<CompojureErrors | null> = nextIsIndex
        ? []
        : {}
      ;(node as Record<string | number, CompojureErrors>)[key] = child
      node = child
    } else {
      node = slot
    }
    if (Array.isArray(node) && typeof path[i + 1] === 'number') {
      const index = path[i + 1] as number
      for (let j = node.length; j < index; j++) node.push(null)
    }
  }
}

/**
 * The compojure-api error tree for a zod error: field → `missing-required-key`,
 * `disallowed-key` or a `(not …)` predicate. A body that is not an object at all gives a single
 * message string.
 *
 * @example
 * compojureErrors(InspectBodySchema.safeParse({}).error!, {}) // { content: 'missing-required-key' }
 */
export function compojureErrors(error: z.ZodError, input: unknown): CompojureErrors {
  const tree: Record<string, CompojureErrors> = {}
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) setAt(tree, [...issue.path, key], 'disallowed-key')
      continue
    }
    if (issue.path.length === 0) return leafMessage(issue, input)
    setAt(tree, issue.path, leafMessage(issue, input))
  }
  return tree
}

/**
 * The IROH 400 body for a request that fails validation (reference §1: "compojure-api style,
 * keyed by field").
 *
 * @example
 * reply.code(400).send(irohValidationBody(result.error, body)) // {"content":"missing-required-key"}
 */
export function irohValidationBody(error: z.ZodError, input: unknown): CompojureErrors {
  return compojureErrors(error, input)
}

/**
 * The IROH profile-route 400 body: the same tree under `errors`
 * (`{"errors":{"invalid_key":"disallowed-key"}}`).
 */
export function irohProfileValidationBody(
  error: z.ZodError,
  input: unknown,
): { errors: CompojureErrors } {
  return { errors: compojureErrors(error, input) }
}

function clojurePath(path: Path): string {
  return `[${path.map((p) => (typeof p === 'number' ? String(p) : `:${String(p)}`)).join(' ')}]`
}

/** The CTIA 400 body. */
export interface CtiaValidationBody {
  error: 'Spec Validation Client Error'
  type: 'Invalid Entity Error'
  message: string
}

/**
 * The CTIA 400 body for an entity that fails validation, with one line per problem in the
 * `clojure.spec` explain style CTIA uses (`In: [:tlp] val: "blue" fails spec: …`).
 *
 * @example
 * reply.code(400).send(ctiaValidationBody(result.error, body))
 * // {"error":"Spec Validation Client Error","type":"Invalid Entity Error","message":"In: [:tlp] val: \"blue\" fails spec: must be one of \"red\" \"amber\" \"green\" \"white\""}
 */
export function ctiaValidationBody(error: z.ZodError, input: unknown): CtiaValidationBody {
  const lines: string[] = []
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        lines.push(`In: ${clojurePath([...issue.path, key])} fails spec: disallowed key`)
      continue
    }
    const where = `In: ${clojurePath(issue.path)}`
    if (isMissing(issue, input)) {
      lines.push(`${where} fails spec: missing required key`)
      continue
    }
    const value = render(valueAt(input, issue.path))
    const reason =
      issue.code === 'invalid_value'
        ? `must be one of ${issue.values.map(render).join(' ')}`
        : issue.code === 'invalid_type'
          ? `must be ${issue.expected === 'array' ? 'a list' : issue.expected === 'object' ? 'a map' : `a ${issue.expected}`}`
          : issue.message
    lines.push(`${where} val: ${value} fails spec: ${reason}`)
  }
  return {
    error: 'Spec Validation Client Error',
    type: 'Invalid Entity Error',
    message: lines.join('\n'),
  }
}
