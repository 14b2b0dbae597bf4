import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { renderConfigurationDoc } from './config-doc.js'
import { documentedConfigs } from './config-schemas.js'

const DOC = new URL('../../docs/configuration.md', import.meta.url)

describe('docs/configuration.md', () => {
  it('documents every key of every app configuration', () => {
    const rendered = renderConfigurationDoc(documentedConfigs)
    if (process.env.UPDATE_DOCS === '1') writeFileSync(DOC, rendered)
    expect(
      readFileSync(DOC, 'utf8'),
      'docs/configuration.md is stale: run npm run docs:generate',
    ).toBe(rendered)
  })

  it('has a description for every key', () => {
    const rendered = renderConfigurationDoc(documentedConfigs)
    const undocumented = rendered
      .split('\n')
      .filter((line) => line.startsWith('| `') && line.split(' | ')[3]?.trim() === '')
    expect(undocumented).toEqual([])
  })
})
