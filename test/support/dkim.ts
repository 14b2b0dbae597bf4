import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { dkimSign } from 'mailauth'

export interface DkimKey {
  privateKeyPem: string
  /** The TXT record value to publish at `<selector>._domainkey.<domain>` (RFC 6376 §3.6.1). */
  txt: string
}

export function generateDkimKey(bits = 2048): DkimKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits })
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  return { privateKeyPem, txt: dkimTxtRecord(privateKeyPem) }
}

export function dkimTxtRecord(privateKeyPem: string): string {
  const spki = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' })
  return `v=DKIM1; k=rsa; p=${spki.toString('base64')}`
}

/** Signs a message (relaxed/relaxed, rsa-sha256) and returns it with the signature prepended. */
export async function signMessage(
  raw: Buffer,
  options: { domain: string; selector: string; privateKeyPem: string; signTime?: Date },
): Promise<Buffer> {
  const result = await dkimSign(raw, {
    canonicalization: 'relaxed/relaxed',
    algorithm: 'rsa-sha256',
    signTime: options.signTime ?? new Date(),
    signatureData: [
      {
        signingDomain: options.domain,
        selector: options.selector,
        privateKey: options.privateKeyPem,
      },
    ],
  } as unknown as Parameters<typeof dkimSign>[1])
  const errors = (result as unknown as { errors?: unknown[] }).errors ?? []
  if (errors.length > 0) throw new Error(`DKIM signing failed: ${JSON.stringify(errors)}`)
  return Buffer.concat([Buffer.from(result.signatures), raw])
}
