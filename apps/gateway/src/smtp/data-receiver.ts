import { Writable } from 'node:stream'
import type { BodySink } from '../spool/body-sink.js'
import { parseHeaderSection, type ParsedHeader } from './header-summary.js'
import { reply, type SmtpReply } from './replies.js'

export interface DataLimits {
  maxMessageSize: number
  maxLineLength: number
  maxHeaderSize: number
  maxReceivedHeaders: number
  /** `reject`: a bare LF or CR refuses the message; `normalize`: rewritten to CRLF. */
  lineEndings: 'reject' | 'normalize'
}

export interface DataResult {
  /** Why the message is refused; undefined when it may be accepted. */
  problem: SmtpReply | undefined
  /** Bytes kept (after normalisation). */
  size: number
  /** Bytes the client sent. */
  received: number
  header: ParsedHeader
  /** Bare line endings rewritten (normalize mode). */
  normalised: number
}

const LF = 0x0a
const CR = 0x0d
const CRLF = Buffer.from('\r\n')

/**
 * Consumes the DATA stream of one transaction (smtp-server has removed the dot-stuffing and
 * ended it at CRLF.CRLF, the only terminator it knows). It checks what smtp-server does not:
 *
 * - bare LF and bare CR (RFC 5321 §2.3.8: lines end with CRLF). Forwarding them is how a relay
 *   becomes "server A" of SMTP smuggling, so they are refused (`554 5.5.2`) or, per listener,
 *   rewritten to CRLF so that nothing downstream can read an end of data into them;
 * - NUL octets, line length, header size, Received count (mail loops), message size.
 *
 * After the first problem it stops storing but keeps reading to the final dot, so the client
 * gets one reply after the dot (RFC 1870 §6.3 for size) and nothing of the message is kept.
 */
export class DataReceiver extends Writable {
  private problem: SmtpReply | undefined
  private received = 0
  private kept = 0
  private normalised = 0
  /** Bytes of the current line so far. */
  private lineLength = 0
  /** The previous chunk ended with a CR, held back until we know whether an LF follows. */
  private carryCr = false
  private inHeader = true
  private headerChunks: Buffer[] = []
  private headerBytes = 0
  private header: ParsedHeader | undefined

  constructor(
    private readonly limits: DataLimits,
    private readonly sink: BodySink,
  ) {
    super({ highWaterMark: 64 * 1024 })
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error) => void): void {
    this.received += chunk.length
    if (this.problem === undefined && this.received > this.limits.maxMessageSize) {
      this.fail(reply('MESSAGE_TOO_BIG', { max: this.limits.maxMessageSize }))
    }
    if (this.problem !== undefined) return callback()
    this.store(this.scan(chunk), callback)
  }

  override _final(callback: (err?: Error) => void): void {
    let tail: Buffer | undefined
    if (this.problem === undefined && this.carryCr) {
      // The data ended in a CR no LF followed: a bare CR.
      this.carryCr = false
      if (this.limits.lineEndings === 'reject') this.fail(reply('BARE_LINE_ENDING'))
      else {
        this.normalised++
        tail = this.checkLines(CRLF)
      }
    }
    this.store(tail, (err) => {
      if (this.inHeader && this.problem === undefined) this.endHeader()
      callback(err)
    })
  }

  result(): DataResult {
    return {
      problem: this.problem,
      size: this.kept,
      received: this.received,
      header: this.header ?? parseHeaderSection(Buffer.alloc(0)),
      normalised: this.normalised,
    }
  }

  private store(data: Buffer | undefined, callback: (err?: Error) => void): void {
    if (this.problem !== undefined || data === undefined || data.length === 0) return callback()
    this.kept += data.length
    const wait = this.sink.write(data)
    if (wait) wait.then(() => callback(), callback)
    else callback()
  }

  private fail(problem: SmtpReply): void {
    if (this.problem === undefined) this.problem = problem
    this.headerChunks = []
  }

  /**
   * Checks one chunk and returns what to store: the chunk itself on the fast path, a copy
   * with CRLF line endings when bare ones were normalised, undefined after a problem.
   */
  private scan(chunk: Buffer): Buffer | undefined {
    if (chunk.indexOf(0) !== -1) {
      this.fail(reply('NUL_IN_DATA'))
      return undefined
    }
    let data = this.carryCr ? Buffer.concat([CR_BYTE, chunk]) : chunk
    this.carryCr = data[data.length - 1] === CR
    if (this.carryCr) data = data.subarray(0, data.length - 1)
    if (hasBareLineEnding(data)) {
      if (this.limits.lineEndings === 'reject') {
        this.fail(reply('BARE_LINE_ENDING'))
        return undefined
      }
      data = this.normalise(data)
    }
    return this.checkLines(data)
  }

  /** Rewrites bare CR and bare LF to CRLF (normalize mode; RFC 5321 §2.3.8). */
  private normalise(data: Buffer): Buffer {
    const out = Buffer.allocUnsafe(data.length * 2)
    let o = 0
    for (let i = 0; i < data.length; i++) {
      const byte = data[i] as number
      if (byte === CR) {
        out[o++] = CR
        out[o++] = LF
        if (data[i + 1] === LF) i++
        else this.normalised++
      } else if (byte === LF) {
        out[o++] = CR
        out[o++] = LF
        this.normalised++
      } else {
        out[o++] = byte
      }
    }
    return out.subarray(0, o)
  }

  /** Line lengths and the header section, over text whose line endings are all CRLF. */
  private checkLines(data: Buffer): Buffer | undefined {
    let lineStart = 0
    for (let i = data.indexOf(LF); i !== -1; i = data.indexOf(LF, i + 1)) {
      const length = this.lineLength + (i - lineStart) - 1
      if (length > this.limits.maxLineLength) {
        this.fail(reply('LINE_TOO_LONG', { max: this.limits.maxLineLength }))
        return undefined
      }
      if (this.inHeader && length === 0) {
        this.collectHeader(data.subarray(0, i + 1))
        this.endHeader()
        if (this.problem !== undefined) return undefined
      }
      this.lineLength = 0
      lineStart = i + 1
    }
    this.lineLength += data.length - lineStart
    if (this.lineLength > this.limits.maxLineLength) {
      this.fail(reply('LINE_TOO_LONG', { max: this.limits.maxLineLength }))
      return undefined
    }
    if (this.inHeader) {
      this.collectHeader(data)
      if (this.headerBytes > this.limits.maxHeaderSize) {
        this.fail(reply('HEADER_TOO_BIG', { max: this.limits.maxHeaderSize }))
        return undefined
      }
    }
    return data
  }

  private collectHeader(part: Buffer): void {
    this.headerChunks.push(part)
    this.headerBytes += part.length
  }

  private endHeader(): void {
    this.inHeader = false
    if (this.headerBytes > this.limits.maxHeaderSize) {
      this.fail(reply('HEADER_TOO_BIG', { max: this.limits.maxHeaderSize }))
      return
    }
    this.header = parseHeaderSection(Buffer.concat(this.headerChunks))
    this.headerChunks = []
    if (this.header.received > this.limits.maxReceivedHeaders) this.fail(reply('MAIL_LOOP'))
  }
}

const CR_BYTE = Buffer.from([CR])

/**
 * True when `data` (whose last byte is not a CR) has a CR not followed by LF or an LF not
 * preceded by CR. memchr-speed `indexOf` keeps the common all-CRLF case cheap.
 */
function hasBareLineEnding(data: Buffer): boolean {
  for (let i = data.indexOf(CR); i !== -1; i = data.indexOf(CR, i + 1)) {
    if (data[i + 1] !== LF) return true
  }
  for (let i = data.indexOf(LF); i !== -1; i = data.indexOf(LF, i + 1)) {
    if (i === 0 || data[i - 1] !== CR) return true
  }
  return false
}
