import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { createSecureContext } from 'node:tls'
import { join } from 'node:path'
import { describeError } from '@postern/core'
import { gwErrors } from '../errors.js'

export interface TlsMaterial {
  key: string
  cert: string
  /** Where it came from, for the start-up log. */
  source: string
}

/**
 * Loads a PEM key and certificate (validated by building a secure context, so a bad pair
 * fails at start, not at the first STARTTLS).
 */
export async function loadTlsFiles(certPath: string, keyPath: string): Promise<TlsMaterial> {
  try {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')])
    createSecureContext({ cert, key })
    return { cert, key, source: certPath }
  } catch (err) {
    throw gwErrors.TLS_FILES_UNREADABLE(
      { cert: certPath, key: keyPath, reason: describeError(err) },
      { cause: err },
    )
  }
}

/**
 * A self-signed certificate for `hostname`, generated once into `dir` (0600) and reused, for
 * demos and tests: senders cannot verify it, which opportunistic STARTTLS tolerates.
 */
export async function selfSignedTls(dir: string, hostname: string): Promise<TlsMaterial> {
  const certPath = join(dir, 'self-signed.crt')
  const keyPath = join(dir, 'self-signed.key')
  if (existsSync(certPath) && existsSync(keyPath)) return loadTlsFiles(certPath, keyPath)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const notAfter = new Date(Date.now() + 825 * 86_400_000)
  // Loaded on demand: the X.509 toolkit is large and only demos and tests need it.
  const { generate } = await import('selfsigned')
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: hostname }] },
    ],
  })
  // Written under temporary names and renamed, so a crash never leaves half a key pair.
  await writeFile(`${keyPath}.tmp`, pems.private, { mode: 0o600 })
  await writeFile(`${certPath}.tmp`, pems.cert, { mode: 0o644 })
  await rename(`${keyPath}.tmp`, keyPath)
  await rename(`${certPath}.tmp`, certPath)
  return { key: pems.private, cert: pems.cert, source: `self-signed (${certPath})` }
}
