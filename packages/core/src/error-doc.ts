import type { CatalogEntry } from './errors.js'

export interface DocumentedCatalog {
  /** Section title, e.g. "Gateway (`GW`)". */
  title: string
  entries: readonly CatalogEntry[]
}

/** Renders `docs/errors.md` from the catalogs (the docs test keeps the file equal to this). */
export function renderErrorsDoc(catalogs: readonly DocumentedCatalog[]): string {
  const lines = [
    '# Error codes',
    '',
    'Every error Postern reports carries a stable code, a message and what to do next. APIs answer',
    '`{"error":{"code","message","hint"}}` (the CTIM-compatible hub routes answer in the shapes of the',
    'Threat Response API instead); SMTP sessions answer the SMTP reply shown; CLIs print',
    '`error <CODE>: <message>` and `next: <hint>` and exit non-zero.',
    '',
    'This file is generated from the error catalogs (`src/errors.ts` of each package) by',
    '`npm run docs:generate`; a test fails when it is out of date.',
    '',
  ]
  for (const catalog of catalogs) {
    lines.push(
      `## ${catalog.title}`,
      '',
      '| Code | HTTP | SMTP | Message | What to do |',
      '|---|---|---|---|---|',
    )
    for (const { code, spec } of catalog.entries) {
      const smtp = spec.smtp ? `${spec.smtp.code} ${spec.smtp.enhanced}` : ''
      lines.push(
        `| \`${code}\` | ${spec.status ?? 500} | ${smtp} | ${cell(spec.message)} | ${cell(spec.hint)} |`,
      )
    }
    lines.push('')
  }
  return lines.join('\n')
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}
