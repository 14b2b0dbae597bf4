import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '@postern/testkit'
import { describe, expect, it } from 'vitest'
import { replaceSection, sectionMarkers, writeSection } from './docs-section.js'

const smtp = sectionMarkers('smtp')
const tracking = sectionMarkers('tracking')
const intro = '# Benchmarks\n\nIntro written by hand.\n'

describe('replaceSection', () => {
  it('appends a section to a document that has none', () => {
    const result = replaceSection(intro, 'smtp', '## SMTP\n\nfigures v1\n')
    expect(result).toBe(`${intro}\n${smtp.begin}\n\n## SMTP\n\nfigures v1\n\n${smtp.end}\n`)
  })

  it('starts an empty document with the section', () => {
    expect(replaceSection('', 'smtp', 'x')).toBe(`${smtp.begin}\n\nx\n\n${smtp.end}\n`)
  })

  it('replaces only its own section and keeps the others and the text around them', () => {
    let doc = replaceSection(intro, 'smtp', 'smtp v1')
    doc = replaceSection(doc, 'tracking', 'tracking v1')
    doc += '\nA note written by hand after the sections.\n'
    const updated = replaceSection(doc, 'smtp', 'smtp v2')
    expect(updated).toContain('smtp v2')
    expect(updated).not.toContain('smtp v1')
    expect(updated).toContain(`${tracking.begin}\n\ntracking v1\n\n${tracking.end}`)
    expect(updated.startsWith(intro)).toBe(true)
    expect(updated.endsWith('\nA note written by hand after the sections.\n')).toBe(true)
    expect(updated.indexOf('smtp v2')).toBeLessThan(updated.indexOf('tracking v1'))
  })

  it('is stable: writing the same body twice gives the same document', () => {
    const once = replaceSection(intro, 'smtp', 'body')
    expect(replaceSection(once, 'smtp', 'body')).toBe(once)
  })

  it('does not confuse a section whose name starts like another', () => {
    let doc = replaceSection(intro, 'smtp-scale', 'scale v1')
    doc = replaceSection(doc, 'smtp', 'smtp v1')
    doc = replaceSection(doc, 'smtp', 'smtp v2')
    expect(doc).toContain('scale v1')
    expect(doc).toContain('smtp v2')
    expect(doc).not.toContain('smtp v1')
  })

  it.each([
    { what: 'a begin without an end', doc: `${intro}${smtp.begin}\nold\n` },
    { what: 'an end without a begin', doc: `${intro}old\n${smtp.end}\n` },
    { what: 'an end before the begin', doc: `${smtp.end}\nold\n${smtp.begin}\n` },
    {
      what: 'two sections of the same name',
      doc: `${smtp.begin}\na\n${smtp.end}\n${smtp.begin}\nb\n${smtp.end}\n`,
    },
  ])('refuses $what', ({ doc }) => {
    expect(() => replaceSection(doc, 'smtp', 'new')).toThrow(/markers of section "smtp"/)
  })

  it.each(['', 'SMTP', 'a b', '-x', 'a:b'])('refuses the section name %j', (name) => {
    expect(() => replaceSection(intro, name, 'x')).toThrow(/must match/)
  })
})

describe('writeSection', () => {
  it('creates the page when missing and rewrites one section in place', () => {
    const dir = tempDir('bench-docs-')
    try {
      const path = join(dir.path, 'benchmarks.md')
      writeSection(path, 'tracking', 'tracking figures')
      writeSection(path, 'smtp', 'smtp figures v1')
      writeSection(path, 'smtp', 'smtp figures v2')
      const text = readFileSync(path, 'utf8')
      expect(text.startsWith('# Benchmarks\n')).toBe(true)
      expect(text).toContain('tracking figures')
      expect(text).toContain('smtp figures v2')
      expect(text).not.toContain('smtp figures v1')

      writeFileSync(path, `${text}\nHand-written footer.\n`)
      writeSection(path, 'tracking', 'tracking figures v2')
      expect(readFileSync(path, 'utf8')).toMatch(/smtp figures v2[\s\S]*Hand-written footer\.\n$/)
    } finally {
      dir.remove()
    }
  })
})
