import { connect, type Socket } from 'node:net'
import { gwErrors } from '../../errors.js'

export type ClamdVerdict = { infected: false } | { infected: true; signature: string }

/** clamd reads INSTREAM data in chunks; 64 KiB keeps writes few without large buffers. */
const CHUNK_BYTES = 64 * 1024

/** Longest reply line clamd sends for one stream ("stream: <signature> FOUND"). */
const MAX_REPLY_BYTES = 64 * 1024

/**
 * clamd's INSTREAM command (clamd(8)): `zINSTREAM\0`, then chunks each prefixed with its
 * length as a 4-byte big-endian integer, then a zero-length chunk. The reply is
 * `stream: OK`, `stream: <name> FOUND` or `<reason> ERROR`, NUL-terminated (z-prefixed
 * commands). One connection per scan: clamd closes it after the reply.
 */
export class ClamdClient {
  private readonly target: { host: string; port: number } | { path: string }

  constructor(address: string) {
    const match = /^(?:\[([^\]]+)\]|([^:/]+)):(\d+)$/.exec(address)
    this.target = match
      ? { host: match[1] ?? (match[2] as string), port: Number(match[3]) }
      : { path: address }
  }

  get description(): string {
    return 'path' in this.target ? this.target.path : `${this.target.host}:${this.target.port}`
  }

  scan(data: Buffer, signal: AbortSignal): Promise<ClamdVerdict> {
    return new Promise((resolve, reject) => {
      const socket: Socket =
        'path' in this.target ? connect(this.target.path) : connect(this.target)
      let reply = Buffer.alloc(0)
      let settled = false
      const finish = (err: unknown, verdict?: ClamdVerdict): void => {
        if (settled) return
        settled = true
        signal.removeEventListener('abort', onAbort)
        socket.destroy()
        if (err) reject(err)
        else resolve(verdict as ClamdVerdict)
      }
      const onAbort = (): void => finish(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      socket.setNoDelay(true)
      socket.on('connect', () => {
        socket.write('zINSTREAM\0')
        for (let offset = 0; offset < data.length; offset += CHUNK_BYTES) {
          const chunk = data.subarray(offset, offset + CHUNK_BYTES)
          const length = Buffer.alloc(4)
          length.writeUInt32BE(chunk.length)
          socket.write(length)
          socket.write(chunk)
        }
        socket.write(Buffer.alloc(4))
      })
      socket.on('data', (chunk: Buffer) => {
        reply = Buffer.concat([reply, chunk])
        if (reply.length > MAX_REPLY_BYTES) {
          finish(this.protocolError('reply too long'))
          return
        }
        const end = reply.indexOf(0)
        if (end >= 0) {
          try {
            finish(null, this.parse(reply.subarray(0, end).toString('utf8')))
          } catch (err) {
            finish(err)
          }
        }
      })
      socket.on('end', () => {
        if (reply.length === 0) finish(this.protocolError('connection closed without a reply'))
        else {
          try {
            finish(null, this.parse(reply.toString('utf8').replace(/\0$/, '')))
          } catch (err) {
            finish(err)
          }
        }
      })
      socket.on('error', (err) => {
        // clamd closes the socket on a too large stream before reading it all (EPIPE):
        // its reply, when it got one out, says why.
        if (reply.length > 0) {
          try {
            finish(null, this.parse(reply.toString('utf8').replace(/\0$/, '')))
            return
          } catch (parseErr) {
            finish(parseErr)
            return
          }
        }
        finish(
          gwErrors.SCANNER_UNAVAILABLE(
            { scanner: 'clamav', target: this.description, reason: err.message },
            { cause: err },
          ),
        )
      })
    })
  }

  private parse(line: string): ClamdVerdict {
    const text = line.trim()
    if (/^stream: OK$/.test(text)) return { infected: false }
    const found = /^stream: (.+) FOUND$/.exec(text)
    if (found) return { infected: true, signature: found[1] as string }
    if (/ERROR$/.test(text)) {
      throw gwErrors.SCANNER_REFUSED({ scanner: 'clamav', reason: text.slice(0, 200) })
    }
    throw this.protocolError(`unexpected reply "${text.slice(0, 100)}"`)
  }

  private protocolError(reason: string): Error {
    return gwErrors.SCANNER_PROTOCOL({ scanner: 'clamav', target: this.description, reason })
  }
}
