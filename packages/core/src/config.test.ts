import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { coreErrors } from './core-errors.js'
import { envNameForPath, loadConfig } from './config.js'

const schema = z
  .object({
    dataDir: z.string().default('/var/lib/postern'),
    http: z.string().default('127.0.0.1:8025'),
    spool: z
      .object({ fsync: z.boolean().default(true), groupCommitMaxBatch: z.number().default(64) })
      .strict()
      .prefault({}),
    listeners: z.array(z.object({ name: z.string(), smtp: z.string() }).strict()).default([]),
  })
  .strict()

function writeYaml(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'postern-config-'))
  const file = join(dir, 'config.yaml')
  writeFileSync(file, text)
  return file
}

describe('loadConfig', () => {
  it('applies defaults when there is no file', () => {
    const config = loadConfig({ schema, env: {} })
    expect(config).toEqual({
      dataDir: '/var/lib/postern',
      http: '127.0.0.1:8025',
      spool: { fsync: true, groupCommitMaxBatch: 64 },
      listeners: [],
    })
    expect(Object.isFrozen(config.spool)).toBe(true)
  })

  it('reads YAML and lets the environment override any path', () => {
    const file = writeYaml('dataDir: /srv/p\nlisteners:\n  - name: in\n    smtp: 0.0.0.0:25\n')
    const config = loadConfig({
      schema,
      file,
      env: {
        POSTERN_SPOOL__FSYNC: 'false',
        POSTERN_SPOOL__GROUP_COMMIT_MAX_BATCH: '128',
        POSTERN_LISTENERS__0__SMTP: '127.0.0.1:2525',
        OTHER: 'ignored',
      },
    })
    expect(config.dataDir).toBe('/srv/p')
    expect(config.spool).toEqual({ fsync: false, groupCommitMaxBatch: 128 })
    expect(config.listeners[0]).toEqual({ name: 'in', smtp: '127.0.0.1:2525' })
  })

  it.each([
    ['unknown top-level key', 'dataDri: /x\n', 'dataDri'],
    ['unknown nested key', 'spool:\n  fsnyc: false\n', 'spool'],
    ['wrong type', 'spool:\n  fsync: "yes"\n', 'spool.fsync'],
  ])('rejects %s with a coded error naming the key', (_name, yaml, key) => {
    const file = writeYaml(yaml)
    try {
      loadConfig({ schema, file, env: {} })
      expect.unreachable()
    } catch (err) {
      expect(coreErrors.CONFIG_INVALID.is(err)).toBe(true)
      expect((err as Error).message).toContain(key)
    }
  })

  it('reports YAML syntax errors and missing files with their own codes', () => {
    expect(() => loadConfig({ schema, file: writeYaml('a: [1,\n'), env: {} })).toThrow(
      expect.objectContaining({ code: 'CORE_ERR_CONFIG_FILE_SYNTAX' }),
    )
    expect(() => loadConfig({ schema, file: '/nonexistent/postern.yaml', env: {} })).toThrow(
      expect.objectContaining({ code: 'CORE_ERR_CONFIG_FILE_UNREADABLE' }),
    )
  })

  it('names environment variables the way it reads them', () => {
    expect(envNameForPath(['dataDir'])).toBe('POSTERN_DATA_DIR')
    expect(envNameForPath(['listeners', 0, 'smtp'])).toBe('POSTERN_LISTENERS__0__SMTP')
  })
})
