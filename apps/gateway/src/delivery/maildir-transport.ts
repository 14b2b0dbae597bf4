import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, unlink } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { describeError, type Logger } from '@postern/core'
import {
  oneLine,
  type DeliveryOutcome,
  type DeliveryRequest,
  type RecipientResult,
  type Transport,
} from './transport.js'

/**
 * Delivery into a local Maildir tree, one folder per recipient (`ROOT/<domain>/<local-part>/`),
 * as Postfix's virtual(8) does: the message is written to `tmp/`, fsynced, then renamed into
 * `new/` and the directory fsynced, so a reader never sees half a message and a delivered
 * message survives a crash. `Return-Path` and `Delivered-To` are prepended (RFC 5321 §4.4),
 * and lines end in LF as in every Maildir.
 */
export class MaildirTransport implements Transport {
  private readonly created = new Set<string>()
  private counter = 0
  private readonly host = hostname().replace(/[/:]/g, '_')

  constructor(
    private readonly root: string,
    private readonly logger: Logger,
  ) {}

  get key(): string {
    return `maildir:${this.root}`
  }

  async deliver(request: DeliveryRequest): Promise<DeliveryOutcome> {
    // Maildir files use the local line ending, LF, as Postfix and qmail write them.
    const body = toLf(await collect(request.message()))
    const results: RecipientResult[] = []
    for (const recipient of request.recipients) {
      try {
        await this.write(recipient, request.from, body)
        results.push({
          recipient,
          status: 'delivered',
          reply: `250 2.0.0 delivered to maildir`,
          enhanced: '2.0.0',
        })
      } catch (err) {
        this.logger.error(
          {
            event: 'MAILDIR_WRITE_FAILED',
            mid: request.mid,
            root: this.root,
            err: describeError(err),
          },
          'maildir delivery failed',
        )
        results.push({
          recipient,
          status: 'deferred',
          reply: `451 4.3.0 maildir write failed: ${oneLine(describeError(err), 200)}`,
          enhanced: '4.3.0',
        })
      }
    }
    return { results, host: this.key }
  }

  private async write(recipient: string, from: string, body: Buffer): Promise<void> {
    const folder = join(this.root, ...mailboxPath(recipient))
    await this.ensureFolder(folder)
    const name = `${Date.now()}.M${process.hrtime.bigint() % 1_000_000n}P${process.pid}Q${++this.counter}R${randomBytes(4).toString('hex')}.${this.host}`
    const tmp = join(folder, 'tmp', name)
    const trace = Buffer.from(`Return-Path: <${from}>\nDelivered-To: ${recipient}\n`)
    const handle = await open(tmp, 'wx', 0o600)
    try {
      await handle.writev([trace, body])
      await handle.datasync()
    } catch (err) {
      await handle.close().catch(() => undefined)
      await unlink(tmp).catch(() => undefined)
      throw err
    }
    await handle.close()
    await rename(tmp, join(folder, 'new', name))
    const dir = await open(join(folder, 'new'), 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
  }

  private async ensureFolder(folder: string): Promise<void> {
    if (this.created.has(folder)) return
    for (const sub of ['tmp', 'new', 'cur']) {
      await mkdir(join(folder, sub), { recursive: true, mode: 0o700 })
    }
    this.created.add(folder)
  }

  async close(): Promise<void> {}
}

/**
 * `<domain>/<local-part>` of a recipient, lower-cased, with every character outside a safe set
 * percent-encoded: recipient addresses come from the client, and `../`, `/`, or a leading dot
 * must never reach the file system as such.
 */
export function mailboxPath(recipient: string): [string, string] {
  const address = recipient.toLowerCase()
  const at = address.lastIndexOf('@')
  const local = at >= 0 ? address.slice(0, at) : address
  const domain = at >= 0 ? address.slice(at + 1) : 'localhost'
  return [safeSegment(domain), safeSegment(local)]
}

function safeSegment(value: string): string {
  const encoded = [...value]
    .map((ch) => (/^[a-z0-9_+=-]$/.test(ch) || ch === '.' ? ch : encodeChar(ch)))
    .join('')
  // No "", ".", ".." or hidden names.
  const safe = encoded.startsWith('.') ? `%2E${encoded.slice(1)}` : encoded
  return safe.length === 0 ? '%00' : safe
}

function encodeChar(ch: string): string {
  return [...Buffer.from(ch, 'utf8')]
    .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
    .join('')
}

async function collect(message: Buffer | Readable): Promise<Buffer> {
  if (Buffer.isBuffer(message)) return message
  const chunks: Buffer[] = []
  for await (const chunk of message) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function toLf(data: Buffer): Buffer {
  return data.indexOf('\r\n') === -1
    ? data
    : Buffer.from(data.toString('latin1').replace(/\r\n/g, '\n'), 'latin1')
}
