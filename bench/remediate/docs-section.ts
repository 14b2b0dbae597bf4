import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const DOCS = new URL('../../docs/benchmarks.md', import.meta.url)

/**
 * Replaces this bench's block in docs/benchmarks.md (between `<!-- bench:NAME:begin -->` and
 * `<!-- bench:NAME:end -->`), appending it when missing; other benches' sections stay as they are.
 */
export function writeBenchSection(name: string, markdown: string): void {
  const begin = `<!-- bench:${name}:begin -->`
  const end = `<!-- bench:${name}:end -->`
  const current = existsSync(DOCS) ? readFileSync(DOCS, 'utf8') : '# Benchmarks\n'
  const block = `${begin}\n${markdown.trimEnd()}\n${end}`
  const start = current.indexOf(begin)
  const stop = current.indexOf(end)
  if (start < 0 !== stop < 0 || stop < start) {
    throw new Error(`docs/benchmarks.md has a broken ${name} section; fix its markers by hand`)
  }
  const next =
    start < 0
      ? `${current.trimEnd()}\n\n${block}\n`
      : `${current.slice(0, start)}${block}${current.slice(stop + end.length)}`
  writeFileSync(DOCS, next)
}
