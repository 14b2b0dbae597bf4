import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { validateConfig } from '@postern/core'
import { gatewayConfigSchema, loadGatewayConfig, resolveSmtpProcesses } from '@postern/gateway'
import { tempDir } from '@postern/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { posternConfig, renderConfigFile, type PosternVariant } from './postern-config.js'
import { benchRows } from './rows.js'

// The bench's configurations must stay valid for the gateway they measure: a key renamed in
// apps/gateway/src/config.ts fails here, in npm test, rather than as a "not available" row.
const input = {
  dataDir: '/var/tmp/postern-bench',
  smtpPort: 0,
  httpPort: 0,
  sinkPort: 2525,
  scanners: { rspamdUrl: 'http://127.0.0.1:11333', clamd: { host: '127.0.0.1', port: 3310 } },
}

const dir = tempDir('bench-postern-config-')
afterAll(() => dir.remove())

describe('posternConfig', () => {
  it.each(['relay', 'pipeline', 'scanners'] as PosternVariant[])(
    'the %s configuration is valid for the gateway',
    (variant) => {
      // Through a file, as `postern gateway --config FILE` reads it.
      const file = join(dir.path, `${variant}.yaml`)
      writeFileSync(file, renderConfigFile(posternConfig(variant, input)))
      const config = loadGatewayConfig(file, {})
      expect(config.listeners[0]?.hat[0]).toMatchObject({ policy: 'ACCEPTED', pregreet: 0 })
      expect(config.listeners[0]?.rat).toEqual([{ recipient: 'example.org', action: 'ACCEPT' }])
      expect(config.smtpRoutes[0]?.to).toEqual(['127.0.0.1:2525'])
    },
  )

  it('turns the pipeline off for the relay row only, and scanners on for the last row only', () => {
    const parsed = (variant: PosternVariant) =>
      validateConfig(gatewayConfigSchema, posternConfig(variant, input)).pipeline
    expect(parsed('relay').enabled).toBe(false)
    expect(parsed('pipeline')).toMatchObject({
      enabled: true,
      scanners: { rspamd: { enabled: false }, clamav: { enabled: false } },
    })
    expect(parsed('scanners')).toMatchObject({
      enabled: true,
      scanners: {
        rspamd: { enabled: true, url: 'http://127.0.0.1:11333' },
        clamav: { enabled: true, address: '127.0.0.1:3310' },
      },
    })
  })

  it('runs every row in one process unless told how many SMTP processes to run', () => {
    const processes = (variant: PosternVariant, smtpProcesses?: number | 'auto') =>
      validateConfig(
        gatewayConfigSchema,
        posternConfig(variant, { ...input, ...(smtpProcesses ? { smtpProcesses } : {}) }),
      ).smtpProcesses
    for (const variant of ['relay', 'pipeline', 'scanners'] as PosternVariant[]) {
      expect(processes(variant)).toBe(1)
      expect(processes(variant, 'auto')).toBe('auto')
      expect(processes(variant, 4)).toBe(4)
    }
  })

  it('says in each Postern row how many processes ran', () => {
    const conditions = (setting?: number | 'auto') =>
      benchRows(setting)
        .filter((row) => row.product === 'Postern')
        .map((row) => row.conditions)
    for (const c of conditions()) expect(c).toContain('one process')
    for (const c of conditions(3)) expect(c).toContain('3 SMTP processes next to a primary')
    const auto = `${resolveSmtpProcesses('auto')} SMTP process`
    for (const c of conditions('auto')) expect(c).toContain(auto)
    for (const c of conditions('auto')) expect(c).toContain('smtpProcesses: auto')
  })

  it('needs scanner endpoints for the scanners row', () => {
    expect(() => posternConfig('scanners', { ...input, scanners: undefined })).toThrow(/endpoints/)
  })
})
