import { describe, expect, it } from 'vitest'
import { validationIssues } from './postern.js'

describe('validationIssues', () => {
  it('keeps the issue lines of a refused configuration', () => {
    const output = [
      '{"level":"info","msg":"starting"}',
      'error CORE_ERR_CONFIG_INVALID: The configuration is invalid:',
      '  - (root): Unrecognized key: "pipeline"',
      '  - listeners.0.hat.0.match: "*" would relay for the whole internet',
      '  next: Fix each key listed above (see docs/configuration.md for every key) and start again.',
    ].join('\n')
    expect(validationIssues(output)).toBe(
      '(root): Unrecognized key: "pipeline"; listeners.0.hat.0.match: "*" would relay for the whole internet',
    )
  })

  it('falls back to the output, on one bounded line', () => {
    expect(validationIssues('error X:\n  something   else\n')).toBe('error X: something else')
    expect(validationIssues('x'.repeat(1000))).toHaveLength(400)
  })
})
