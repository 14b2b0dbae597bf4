/**
 * The settings form of a module instance, derived from its type's `configuration_spec` (the
 * Threat Response module-type format: `{key, type, label, required, default?, options?,
 * tooltip?}`; reference §4). Pure functions: what controls a spec asks for, the form state a
 * stored instance starts from, and the settings object a filled form sends back. Settings the
 * spec does not describe stay in a JSON text and round-trip unchanged.
 */

/** What the hub sends for a secret setting; sent back unchanged, it keeps the stored value. */
export const MASKED = '*****'
/** The keys the hub masks (the hub's module-service SECRET_KEY). */
const SECRET_KEY = /key|secret|password|token|credential/i
/** Claims the hub sets itself in a configuration token: a `custom_X` may not be one of them. */
const RESERVED_CLAIMS = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'jwks_host'])
const CLAIM_NAME = /^[A-Za-z0-9_]{1,64}$/
// Deliberately loose (the hub checks RFC 5321 syntax): catches the typo, not every address.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

export interface ModuleType {
  id: string
  name: string
  title?: string
  description?: string
  built_in: boolean
  properties?: Record<string, unknown>
  configuration_spec?: unknown[]
}

export interface SpecEntry {
  key: string
  type: string
  label: string
  required: boolean
  default?: unknown
  options?: string[]
  tooltip?: string
}

export type Control =
  | { kind: 'text'; input: 'text' | 'url' | 'email' | 'password' | 'number' }
  | { kind: 'checkbox' }
  | { kind: 'choices'; options: string[] }
  | { kind: 'devices' }
  /** A wildcard key (`custom_*`): any number of `prefix + name` settings, edited as rows. */
  | { kind: 'rows'; prefix: string }

export interface SettingField {
  entry: SpecEntry
  control: Control
}

export interface Row {
  name: string
  value: string
  /** The stored value is a secret the hub masked: an empty value keeps it. */
  masked: boolean
  /** What the hub sent, kept when the row is left as it was (numbers stay numbers). */
  original?: { name: string; value: unknown }
}

export type FieldState =
  | { kind: 'text'; text: string; masked: boolean; original?: { text: string; value: unknown } }
  | { kind: 'checkbox'; checked: boolean }
  | { kind: 'choices'; chosen: string[] }
  | { kind: 'devices'; all: boolean; chosen: string[] }
  | { kind: 'rows'; rows: Row[] }

export interface FormState {
  fields: Record<string, FieldState>
  /** Settings the spec does not describe, as JSON (the advanced editor). */
  other: string
}

/** One thing to fix, on the field it belongs to (`key` of the spec entry, or `other`). */
export interface Problem {
  key: string
  message: string
}

export const OTHER = 'other'

const isRecord = (value: unknown): value is Record<string, unknown> =>
  !!value && typeof value === 'object' && !Array.isArray(value)
const isScalar = (value: unknown): value is string | number | boolean =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'string')

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key)
}

/** The spec entries of a type that the form can use (objects with a string key), normalised. */
export function specOf(type: ModuleType | undefined): SpecEntry[] {
  const entries: SpecEntry[] = []
  for (const raw of type?.configuration_spec ?? []) {
    if (!isRecord(raw) || typeof raw.key !== 'string' || raw.key === '') continue
    entries.push({
      key: raw.key,
      type: typeof raw.type === 'string' ? raw.type : 'string',
      label: typeof raw.label === 'string' && raw.label ? raw.label : raw.key,
      required: raw.required === true,
      default: raw.default,
      options: isStringList(raw.options) ? raw.options : undefined,
      tooltip: typeof raw.tooltip === 'string' ? raw.tooltip : undefined,
    })
  }
  return entries
}

function controlFor(entry: SpecEntry, type: ModuleType | undefined): Control {
  if (entry.key.endsWith('*')) return { kind: 'rows', prefix: entry.key.slice(0, -1) }
  if (entry.type === 'device_list') return { kind: 'devices' }
  if (entry.type === 'api_list') {
    const served = type?.properties?.['supported-apis']
    return {
      kind: 'choices',
      options: entry.options ?? (isStringList(served) ? served : []),
    }
  }
  if (entry.options && entry.type.endsWith('_list'))
    return { kind: 'choices', options: entry.options }
  if (entry.type === 'boolean') return { kind: 'checkbox' }
  if (isSecretKey(entry.key) || entry.type === 'password' || entry.type === 'api_key')
    return { kind: 'text', input: 'password' }
  if (entry.type === 'integer' || entry.type === 'number') return { kind: 'text', input: 'number' }
  if (entry.type === 'url' || entry.type === 'email') return { kind: 'text', input: entry.type }
  return { kind: 'text', input: 'text' }
}

/** Whether a stored value can be shown by a control; one that cannot goes to the JSON editor. */
function fits(control: Control, value: unknown): boolean {
  if (value === undefined) return true
  switch (control.kind) {
    case 'text':
      return typeof value === 'string' || typeof value === 'number'
    case 'checkbox':
      return typeof value === 'boolean'
    case 'choices':
      return isStringList(value)
    case 'devices':
      return value === 'all' || isStringList(value)
    case 'rows':
      return true
  }
}

/** The controls the form shows for a type, given the settings it starts from. */
export function fieldsFor(
  type: ModuleType | undefined,
  settings: Record<string, unknown> = {},
): SettingField[] {
  return specOf(type)
    .map((entry) => ({ entry, control: controlFor(entry, type) }))
    .filter(({ entry, control }) => fits(control, settings[entry.key]))
}

/** Whether `key` is a row of a wildcard field (`prefix` + name, a scalar, no field of its own). */
function isRowKey(fields: SettingField[], prefix: string, key: string, value: unknown): boolean {
  return key.startsWith(prefix) && isScalar(value) && !fields.some((f) => f.entry.key === key)
}

/** Whether `key` is edited by one of `fields`. */
function describedBy(fields: SettingField[], key: string, value: unknown): boolean {
  return fields.some(({ entry, control }) =>
    control.kind === 'rows' ? isRowKey(fields, control.prefix, key, value) : entry.key === key,
  )
}

function initialField(
  field: SettingField,
  fields: SettingField[],
  settings: Record<string, unknown>,
): FieldState {
  const { entry, control } = field
  const stored = settings[entry.key]
  const value = stored === undefined ? entry.default : stored
  switch (control.kind) {
    case 'checkbox':
      return { kind: 'checkbox', checked: value === true }
    case 'choices':
      return {
        kind: 'choices',
        // A new api_list starts with every API (the hub's default); other lists start empty.
        chosen: isStringList(value)
          ? value
          : entry.type === 'api_list' && stored === undefined
            ? control.options
            : [],
      }
    case 'devices':
      return {
        kind: 'devices',
        all: value === undefined || value === 'all',
        chosen: isStringList(value) ? value : [],
      }
    case 'rows':
      return {
        kind: 'rows',
        rows: Object.entries(settings)
          .filter(([key, v]) => isRowKey(fields, control.prefix, key, v))
          .map(([key, v]) => {
            const name = key.slice(control.prefix.length)
            const masked = v === MASKED && isSecretKey(key)
            return { name, value: masked ? '' : String(v), masked, original: { name, value: v } }
          }),
      }
    case 'text': {
      if (stored === MASKED && control.input === 'password')
        return { kind: 'text', text: '', masked: true }
      const text = isScalar(value) ? String(value) : ''
      return {
        kind: 'text',
        text,
        masked: false,
        original: stored === undefined ? undefined : { text, value: stored },
      }
    }
  }
}

/** The form state of an instance's settings (or of a new instance's defaults). */
export function initialState(
  fields: SettingField[],
  settings: Record<string, unknown> = {},
): FormState {
  const other = Object.fromEntries(
    Object.entries(settings).filter(([key, value]) => !describedBy(fields, key, value)),
  )
  return {
    fields: Object.fromEntries(fields.map((f) => [f.entry.key, initialField(f, fields, settings)])),
    other: Object.keys(other).length === 0 ? '' : JSON.stringify(other, null, 2),
  }
}

function checkUrl(text: string): string | null {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return 'is not a URL: enter an absolute address such as https://relay.example.com/module'
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return 'must start with https:// (or http://)'
  if (url.search || url.hash || /[?#]/.test(text))
    return 'must not carry a query (?…) or a fragment (#…): the hub appends the routes'
  return null
}

type TextInput = Extract<Control, { kind: 'text' }>['input']

function textValue(
  entry: SpecEntry,
  input: TextInput,
  state: Extract<FieldState, { kind: 'text' }>,
  problems: Problem[],
): unknown {
  const problem = (message: string) => problems.push({ key: entry.key, message })
  if (state.masked && state.text === '') return MASKED
  if (state.original && state.text === state.original.text) return state.original.value
  // Secrets are taken as typed: spaces may be part of them.
  const text = input === 'password' ? state.text : state.text.trim()
  if (text === '') {
    if (entry.required) problem(`${entry.label} is required: fill it in.`)
    return undefined
  }
  if (input === 'url') {
    const wrong = checkUrl(text)
    if (wrong) problem(`${entry.label} ${wrong}.`)
  } else if (input === 'email' && !EMAIL.test(text)) {
    problem(`${entry.label} is not an e-mail address: enter one such as soc@example.com.`)
  } else if (input === 'number') {
    const number = Number(text)
    if (!Number.isFinite(number) || (entry.type === 'integer' && !Number.isInteger(number))) {
      problem(`${entry.label} must be a whole number.`)
      return undefined
    }
    return number
  }
  return text
}

function rowsValue(
  entry: SpecEntry,
  prefix: string,
  rows: Row[],
  problems: Problem[],
): [string, unknown][] {
  const entries: [string, unknown][] = []
  const seen = new Set<string>()
  rows.forEach((row, index) => {
    const name = row.name.trim()
    const where = `${entry.label}, row ${index + 1}`
    const problem = (message: string) => problems.push({ key: entry.key, message })
    if (name === '' && row.value === '' && !row.masked) return
    if (!CLAIM_NAME.test(name)) {
      problem(`${where}: the name may use letters, digits and _ only (1 to 64 of them).`)
      return
    }
    if (prefix === 'custom_' && RESERVED_CLAIMS.has(name)) {
      problem(`${where}: "${name}" is a claim the hub sets itself; choose another name.`)
      return
    }
    if (seen.has(name)) {
      problem(`${where}: "${name}" appears twice; keep one of them.`)
      return
    }
    seen.add(name)
    const key = `${prefix}${name}`
    if (row.masked && row.value === '') {
      if (row.original?.name !== name) {
        problem(`${where}: enter the value again: the stored secret belongs to the old name.`)
        return
      }
      entries.push([key, MASKED])
    } else if (
      row.original &&
      row.original.name === name &&
      row.value === String(row.original.value)
    ) {
      entries.push([key, row.original.value])
    } else {
      entries.push([key, row.value])
    }
  })
  return entries
}

function parseOther(text: string, problems: Problem[]): Record<string, unknown> {
  if (text.trim() === '') return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    problems.push({
      key: OTHER,
      message: `The JSON settings are not valid JSON (${err instanceof Error ? err.message : String(err)}).`,
    })
    return {}
  }
  if (!isRecord(parsed)) {
    problems.push({
      key: OTHER,
      message: 'The JSON settings must be an object: { "name": value }.',
    })
    return {}
  }
  return parsed
}

/**
 * The settings a filled form sends (the hub replaces an instance's settings with them), or the
 * problems to fix first. A masked secret left empty is sent as {@link MASKED}: the hub keeps it.
 */
export function buildSettings(
  fields: SettingField[],
  state: FormState,
): { settings: Record<string, unknown>; problems: Problem[] } {
  const problems: Problem[] = []
  const settings: Record<string, unknown> = {}
  for (const field of fields) {
    const { entry, control } = field
    const value = state.fields[entry.key]
    if (!value) continue
    switch (value.kind) {
      case 'text': {
        if (control.kind !== 'text') break
        const result = textValue(entry, control.input, value, problems)
        if (result !== undefined) settings[entry.key] = result
        break
      }
      case 'checkbox':
        settings[entry.key] = value.checked
        break
      case 'choices':
        if (entry.required && value.chosen.length === 0)
          problems.push({ key: entry.key, message: `${entry.label}: choose at least one.` })
        if (entry.type === 'api_list' && value.chosen.length === 0)
          problems.push({
            key: entry.key,
            message: `${entry.label}: choose at least one API the module serves.`,
          })
        settings[entry.key] = value.chosen
        break
      case 'devices':
        if (!value.all && value.chosen.length === 0)
          problems.push({
            key: entry.key,
            message: `${entry.label}: choose at least one gateway, or all gateways.`,
          })
        settings[entry.key] = value.all ? 'all' : value.chosen
        break
      case 'rows':
        if (control.kind !== 'rows') break
        for (const [key, v] of rowsValue(entry, control.prefix, value.rows, problems))
          settings[key] = v
        break
    }
  }
  const other = parseOther(state.other, problems)
  for (const key of Object.keys(other)) {
    if (key in settings || fields.some((f) => f.entry.key === key))
      problems.push({
        key: OTHER,
        message: `The JSON settings set "${key}", which the form sets: change it in the form and remove it from the JSON.`,
      })
  }
  return { settings: { ...other, ...settings }, problems }
}
