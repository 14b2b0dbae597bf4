import { describe, expect, it } from 'vitest'
import { BACKENDS } from '@postern/store/testing'
import { killDuringLoad } from './support/kill-during-load.js'

describe.each(BACKENDS)(
  'kill -9 of the gateway at 10 random moments of 50 000 messages (%s)',
  (dialect) => {
    it('delivers every message that got a 250; duplicates are counted', async () => {
      const report = await killDuringLoad({ dialect, messages: 50_000, kills: 10, sessions: 20 })
      expect(report.acked).toBeGreaterThan(40_000)
      expect(report.delivered).toBeGreaterThanOrEqual(report.acked)
    }, 1_800_000)
  },
)
