import { z } from 'zod'
import { envNameForPath } from '@postern/core'

/** One app's configuration, as docs/configuration.md documents it. */
export interface DocumentedConfig {
  title: string
  command: string
  intro: string
  schema: z.ZodType
}

interface JsonSchema {
  type?: string | string[]
  description?: string
  default?: unknown
  enum?: unknown[]
  anyOf?: JsonSchema[]
  properties?: Record<string, JsonSchema>
  items?: JsonSchema
  'x-format'?: string
}

function typeOf(node: JsonSchema): string {
  if (node['x-format']) return node['x-format']
  if (node.enum) return node.enum.map((v) => `\`${String(v)}\``).join(' | ')
  if (node.anyOf) return node.anyOf.map(typeOf).join(' or ')
  if (node.type === 'array') return `list of ${node.items ? typeOf(node.items) : 'values'}`
  if (node.type === 'integer') return 'integer'
  return Array.isArray(node.type) ? node.type.join(' or ') : (node.type ?? 'any')
}

function defaultOf(node: JsonSchema): string {
  if (node.default === undefined) return ''
  if (
    typeof node.default === 'object' &&
    node.default !== null &&
    Object.keys(node.default).length === 0
  )
    return ''
  return `\`${JSON.stringify(node.default)}\``
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

/** Table rows for every key, depth first: `listeners[].hat[].policy`. */
function rows(node: JsonSchema, path: (string | number)[], out: string[]): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const childPath = [...path, key]
    const shown = childPath
      .map((p) => (typeof p === 'number' ? '[]' : p))
      .join('.')
      .replace(/\.\[\]/g, '[]')
    out.push(
      `| \`${shown}\` | ${cell(typeOf(child))} | ${cell(defaultOf(child))} | ${cell(child.description ?? '')} | \`${envNameForPath(childPath.map((p) => (typeof p === 'number' ? 0 : p)))}\` |`,
    )
    if (child.properties) rows(child, childPath, out)
    if (child.type === 'array' && child.items?.properties) rows(child.items, [...childPath, 0], out)
  }
}

/** Renders docs/configuration.md (the docs test keeps the file equal to this). */
export function renderConfigurationDoc(configs: readonly DocumentedConfig[]): string {
  const lines = [
    '# Configuration',
    '',
    'Each app reads one YAML file (`--config FILE`), then environment variables: any key can be',
    'overridden with `POSTERN_<PATH>`, path segments in UPPER_SNAKE case joined by `__` and list',
    'items by index (`POSTERN_LISTENERS__0__SMTP=0.0.0.0:25`); values are parsed as JSON when they',
    'parse (`true`, `25`, `["a"]`), as text otherwise. Unknown keys are refused, so a typo never',
    'passes silently. Durations are written `500ms`, `30s`, `5m`, `4h`, `5d` (or milliseconds),',
    'sizes `512KB`, `25MB`, `1GB` (or bytes).',
    '',
    'This file is generated from the configuration schemas (`src/config.ts` of each app) by',
    '`npm run docs:generate`; a test fails when it is out of date.',
    '',
  ]
  for (const config of configs) {
    const json = z.toJSONSchema(config.schema, {
      io: 'input',
      unrepresentable: 'any',
    }) as JsonSchema
    lines.push(`## ${config.title}`, '', config.intro, '', `Run with \`${config.command}\`.`, '')
    lines.push('| Key | Type | Default | Meaning | Environment |', '|---|---|---|---|---|')
    rows(json, [], lines)
    lines.push('')
  }
  return lines.join('\n')
}
