/** Values a ticket template can name. */
export type TicketFields = Record<string, string>

const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g

/**
 * Renders a webhook template: the body is built as a structure, never by pasting text into
 * JSON, so a value carrying quotes or braces cannot change the body's shape. Unknown
 * placeholders become empty strings.
 */
export function renderTemplate(template: unknown, fields: TicketFields): unknown {
  if (typeof template === 'string') {
    return template.replace(PLACEHOLDER, (_, name: string) => fields[name] ?? '')
  }
  if (Array.isArray(template)) return template.map((item) => renderTemplate(item, fields))
  if (template !== null && typeof template === 'object') {
    return Object.fromEntries(
      Object.entries(template).map(([key, value]) => [key, renderTemplate(value, fields)]),
    )
  }
  return template
}
