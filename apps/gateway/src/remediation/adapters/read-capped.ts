import type { Readable } from 'node:stream'
import type { MailboxHit } from '../adapter.js'
import { gwErrors } from '../../errors.js'

/** Refuses, before fetching it, a hit whose size the server reported above `maxBytes`. */
export function refuseOversized(hit: MailboxHit, maxBytes: number, mailbox: string): void {
  if (hit.size !== undefined && hit.size > maxBytes) {
    throw gwErrors.REMEDIATION_MESSAGE_TOO_LARGE({ mailbox, size: hit.size, limit: maxBytes })
  }
}

/** Reads a stream into memory, failing with `tooLarge()` as soon as it passes `maxBytes`. */
export async function readCapped(
  stream: Readable,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array)
    size += buffer.length
    if (size > maxBytes) {
      stream.destroy()
      throw tooLarge()
    }
    chunks.push(buffer)
  }
  return Buffer.concat(chunks)
}
