import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { PIPELINE_EVENTS } from '../../apps/gateway/src/pipeline/events.js'
import { actionsSchema, leafConditionShape } from '../../apps/gateway/src/policy/config.js'
import { VERDICTS } from '../../apps/gateway/src/scanners/contract.js'
import { gwErrors } from '../../apps/gateway/src/errors.js'

const DOC = readFileSync(new URL('../../docs/pipeline.md', import.meta.url), 'utf8')

/**
 * docs/pipeline.md is written by hand (conditions nest recursively, so the generated
 * configuration reference points there): this keeps it complete.
 */
describe('docs/pipeline.md', () => {
  it.each([
    ['condition', [...Object.keys(leafConditionShape), 'all', 'any', 'not']],
    ['action', Object.keys(actionsSchema.shape)],
    ['verdict', [...VERDICTS]],
    ['event', Object.values(PIPELINE_EVENTS)],
  ])('names every %s', (_kind, names) => {
    const missing = names.filter((name) => !DOC.includes(`\`${name}\``))
    expect(missing).toEqual([])
  })

  it('names every pipeline error code', () => {
    const prefixes = [
      'PIPELINE_',
      'SCANNER_',
      'NOTIFICATION_',
      'POLICY_',
      'QUARANTINE_',
      'BLOCKLIST_',
      'BLOCKED_',
    ]
    const codes = Object.keys(gwErrors).filter((key) => prefixes.some((p) => key.startsWith(p)))
    expect(codes.filter((code) => !DOC.includes(`\`${code}\``))).toEqual([])
  })
})
