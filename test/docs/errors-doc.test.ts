import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { renderErrorsDoc } from '@postern/core'
import { documentedCatalogs } from './catalogs.js'

const DOC = new URL('../../docs/errors.md', import.meta.url)

describe('docs/errors.md', () => {
  it('lists every error code of every catalog, once', () => {
    const rendered = renderErrorsDoc(documentedCatalogs)
    if (process.env.UPDATE_DOCS === '1') writeFileSync(DOC, rendered)
    expect(readFileSync(DOC, 'utf8'), 'docs/errors.md is stale: run npm run docs:generate').toBe(
      rendered,
    )
    const codes = documentedCatalogs.flatMap((c) => c.entries.map((e) => e.code))
    expect(new Set(codes).size).toBe(codes.length)
  })

  it('gives every error a hint that says what to do', () => {
    for (const { code, spec } of documentedCatalogs.flatMap((c) => c.entries)) {
      expect(spec.hint.length, code).toBeGreaterThan(10)
    }
  })
})
