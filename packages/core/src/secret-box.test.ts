import { mkdtempSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SecretBox } from './secret-box.js'

describe('SecretBox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'postern-key-'))
  const keyFile = join(dir, 'secret.key')

  it('creates a private key file once and round-trips values', () => {
    const box = SecretBox.fromKeyFile(keyFile)
    expect(statSync(keyFile).mode & 0o777).toBe(0o600)
    const sealed = box.encrypt('hunter2', 'profile:1')
    expect(sealed).not.toContain('hunter2')
    expect(SecretBox.fromKeyFile(keyFile).decrypt(sealed, 'profile:1')).toBe('hunter2')
  })

  it.each([
    ['another record', (s: string) => s, 'profile:2'],
    [
      'a flipped byte',
      (s: string) => s.slice(0, -2) + (s.endsWith('A') ? 'B' : 'A') + s.slice(-1),
      'profile:1',
    ],
    ['garbage', () => 'nonsense', 'profile:1'],
  ])('refuses %s', (_name, tamper, aad) => {
    const box = SecretBox.fromKeyFile(keyFile)
    const sealed = tamper(box.encrypt('hunter2', 'profile:1'))
    expect(() => box.decrypt(sealed, aad)).toThrow(
      expect.objectContaining({ code: 'CORE_ERR_SECRET_UNREADABLE' }),
    )
  })
})
