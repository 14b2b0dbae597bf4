import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs'
import { dirname } from 'node:path'
import { coreErrors } from './core-errors.js'

const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const FORMAT = 'v1'

/**
 * Encrypts secrets kept at rest (remediation credentials, ribbon client secrets, webhook keys)
 * with AES-256-GCM under a per-installation key. Output: `v1.<iv>.<tag>.<ciphertext>` in
 * base64url, so it fits a TEXT column.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromKey(key: Buffer): SecretBox {
    if (key.length !== KEY_BYTES) throw coreErrors.SECRET_KEY_INVALID({ path: '(memory)' })
    return new SecretBox(key)
  }

  /** Reads the key file, creating it (mode 0600) with a fresh random key on first use. */
  static fromKeyFile(path: string): SecretBox {
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true })
      const fd = openSync(path, 'wx', 0o600)
      try {
        writeSync(fd, randomBytes(KEY_BYTES).toString('base64url'))
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
    }
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64url')
    if (key.length !== KEY_BYTES) throw coreErrors.SECRET_KEY_INVALID({ path })
    return new SecretBox(key)
  }

  encrypt(plaintext: string, associatedData = ''): string {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    cipher.setAAD(Buffer.from(associatedData))
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    const tag = cipher.getAuthTag()
    return [FORMAT, iv, tag, body]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.')
  }

  /** `associatedData` must match what was given to `encrypt` (binds a value to its record). */
  decrypt(sealed: string, associatedData = ''): string {
    const parts = sealed.split('.')
    if (parts.length !== 4 || parts[0] !== FORMAT) throw coreErrors.SECRET_UNREADABLE()
    try {
      const [, iv, tag, body] = parts.map((p) => Buffer.from(p, 'base64url')) as [
        Buffer,
        Buffer,
        Buffer,
        Buffer,
      ]
      if (tag.length !== TAG_BYTES) throw new Error('bad tag length')
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv)
      decipher.setAAD(Buffer.from(associatedData))
      decipher.setAuthTag(tag)
      return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')
    } catch (err) {
      throw coreErrors.SECRET_UNREADABLE({}, { cause: err })
    }
  }
}
