import { Agent, request, type IncomingHttpHeaders } from 'node:http'
import { gwErrors } from '../../errors.js'

/** rspamd's answer to `/checkv2` (rspamd protocol, https://rspamd.com/doc/developers/protocol.html). */
export interface RspamdReply {
  action: string
  score: number
  requiredScore: number
  isSkipped: boolean
  symbols: { name: string; score: number; options: string[] }[]
  smtpMessage: string | null
}

export interface RspamdCheck {
  ip: string
  helo: string | null
  hostname: string | null
  from: string
  recipients: readonly string[]
  queueId: string
  user: string | null
  message: Buffer
}

/** Longest reply body accepted; rspamd's replies are a few kilobytes. */
const MAX_REPLY_BYTES = 4 * 1024 * 1024

/**
 * HTTP client for rspamd's normal worker. Connections are kept alive (one agent per client),
 * the envelope goes in rspamd's request headers so that its SPF/rbl/multimap rules see what
 * the gateway saw, and the message is the request body.
 */
export class RspamdClient {
  private readonly agent: Agent
  private readonly url: URL

  constructor(
    baseUrl: string,
    private readonly options: { password?: string | undefined; maxSockets: number },
  ) {
    this.url = new URL('/checkv2', baseUrl)
    this.agent = new Agent({ keepAlive: true, maxSockets: options.maxSockets })
  }

  check(input: RspamdCheck, signal: AbortSignal): Promise<RspamdReply> {
    const headers: Record<string, string | string[]> = {
      'Content-Type': 'message/rfc822',
      'Content-Length': String(input.message.length),
      IP: input.ip,
      From: input.from,
      'Queue-Id': input.queueId,
    }
    if (input.recipients.length > 0) headers.Rcpt = [...input.recipients]
    if (input.helo) headers.Helo = input.helo
    if (input.hostname) headers.Hostname = input.hostname
    if (input.user) headers.User = input.user
    if (this.options.password) headers.Password = this.options.password
    const target = this.url.toString()
    return new Promise((resolve, reject) => {
      const req = request(
        this.url,
        { method: 'POST', headers, agent: this.agent, signal },
        (res) => {
          const chunks: Buffer[] = []
          let length = 0
          res.on('data', (chunk: Buffer) => {
            length += chunk.length
            if (length > MAX_REPLY_BYTES) {
              res.destroy()
              reject(protocolError(target, 'reply larger than 4 MiB'))
              return
            }
            chunks.push(chunk)
          })
          res.on('error', (err) => reject(unavailable(target, err)))
          res.on('end', () => {
            if (res.statusCode !== 200) {
              reject(protocolError(target, `HTTP ${res.statusCode} ${statusText(res.headers)}`))
              return
            }
            try {
              resolve(parseReply(Buffer.concat(chunks).toString('utf8')))
            } catch (err) {
              reject(protocolError(target, (err as Error).message))
            }
          })
        },
      )
      req.on('error', (err) => {
        if (signal.aborted) reject(signal.reason)
        else reject(unavailable(target, err))
      })
      req.end(input.message)
    })
  }

  close(): void {
    this.agent.destroy()
  }
}

function statusText(headers: IncomingHttpHeaders): string {
  const error = headers['x-error'] ?? headers['error']
  return typeof error === 'string' ? error : ''
}

function parseReply(text: string): RspamdReply {
  const body = JSON.parse(text) as Record<string, unknown>
  if (typeof body.action !== 'string' || typeof body.score !== 'number') {
    throw new Error('no action or score in the reply')
  }
  const rawSymbols = (body.symbols ?? {}) as Record<
    string,
    { name?: string; score?: number; options?: unknown[] }
  >
  const symbols = Object.entries(rawSymbols).map(([key, value]) => ({
    name: value.name ?? key,
    score: typeof value.score === 'number' ? value.score : 0,
    options: Array.isArray(value.options) ? value.options.map(String).slice(0, 10) : [],
  }))
  const messages = (body.messages ?? {}) as Record<string, unknown>
  return {
    action: body.action,
    score: body.score,
    requiredScore: typeof body.required_score === 'number' ? body.required_score : 0,
    isSkipped: body.is_skipped === true,
    symbols,
    smtpMessage: typeof messages.smtp_message === 'string' ? messages.smtp_message : null,
  }
}

function unavailable(target: string, err: Error): Error {
  return gwErrors.SCANNER_UNAVAILABLE(
    { scanner: 'rspamd', target, reason: err.message },
    { cause: err },
  )
}

function protocolError(target: string, reason: string): Error {
  return gwErrors.SCANNER_PROTOCOL({ scanner: 'rspamd', target, reason })
}
