import { availableParallelism } from 'node:os'
import { describe, expect, it } from 'vitest'
import { validateConfig } from '@postern/core'
import { gatewayConfigSchema } from '../config.js'
import { perProcess } from './supervisor.js'

describe('the configuration each SMTP process gets', () => {
  it('shares auto analysis threads out between the processes, at least one each', () => {
    const config = validateConfig(gatewayConfigSchema, {})
    const cpus = availableParallelism()
    for (const count of [1, 2, 4, 31]) {
      const workers = perProcess(config, count).pipeline.workers as number
      expect(workers).toBeGreaterThanOrEqual(1)
      expect(workers).toBe(Math.max(1, Math.floor((cpus - 1) / count)))
    }
  })

  it('keeps an explicit thread count, and everything else, as configured', () => {
    const config = validateConfig(gatewayConfigSchema, { pipeline: { workers: 3 } })
    expect(perProcess(config, 4)).toBe(config)
    const auto = validateConfig(gatewayConfigSchema, { hostname: 'gw.test' })
    expect({ ...perProcess(auto, 2), pipeline: undefined }).toEqual({
      ...auto,
      pipeline: undefined,
    })
  })
})
