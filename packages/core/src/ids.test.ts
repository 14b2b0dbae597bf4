import { describe, expect, it } from 'vitest'
import { digestToken, hashPassword, randomToken, verifyPassword } from './ids.js'

describe('secrets', () => {
  it('hashes passwords with scrypt and verifies them', async () => {
    const encoded = await hashPassword('correct horse')
    expect(encoded).toMatch(/^scrypt\$32768\$8\$1\$/)
    expect(await verifyPassword('correct horse', encoded)).toBe(true)
    expect(await verifyPassword('wrong horse', encoded)).toBe(false)
    expect(await verifyPassword('x', 'not-a-hash')).toBe(false)
  })

  it('makes tokens with 256 bits and stable digests', () => {
    const token = randomToken()
    expect(Buffer.from(token, 'base64url')).toHaveLength(32)
    expect(digestToken(token)).toBe(digestToken(token))
    expect(digestToken(token)).not.toContain(token)
  })
})
