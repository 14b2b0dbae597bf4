import type { AddressInfo } from 'node:net'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface CapturedMail {
  from: string
  to: string[]
  raw: Buffer
  parsed: ParsedMail
}

export interface SmtpCapture {
  port: number
  host: string
  messages: CapturedMail[]
  /** Answer every RCPT with this reply (e.g. 451 for a relay that defers) until cleared. */
  rejectWith: { code: number; message: string } | null
  close(): Promise<void>
}

/** A real SMTP server (nodemailer's smtp-server) on an ephemeral port that keeps what it gets. */
export async function startSmtpCapture(): Promise<SmtpCapture> {
  const messages: CapturedMail[] = []
  const state: { rejectWith: SmtpCapture['rejectWith'] } = { rejectWith: null }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(_address, _session, callback) {
      if (state.rejectWith) {
        const err = new Error(state.rejectWith.message) as Error & { responseCode: number }
        err.responseCode = state.rejectWith.code
        return callback(err)
      }
      callback()
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const raw = Buffer.concat(chunks)
        simpleParser(raw)
          .then((parsed) => {
            messages.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              raw,
              parsed,
            })
            callback()
          })
          .catch(callback)
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  return {
    port,
    host: '127.0.0.1',
    messages,
    get rejectWith() {
      return state.rejectWith
    },
    set rejectWith(value) {
      state.rejectWith = value
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
