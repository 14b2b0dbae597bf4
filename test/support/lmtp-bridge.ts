import type { AddressInfo } from 'node:net'
import nodemailer from 'nodemailer'
import { SMTPServer } from 'smtp-server'

export interface LmtpBridge {
  host: string
  port: number
  close(): Promise<void>
}

/**
 * The last hop of a mail system in front of Dovecot: an SMTP server that hands every message
 * to Dovecot LMTP (RFC 2033), as Postfix's `lmtp` transport does, answering each RCPT with
 * what LMTP said for it. The gateway under test delivers to it like to any downstream MTA.
 */
export async function startLmtpBridge(lmtp: { host: string; port: number }): Promise<LmtpBridge> {
  const transport = nodemailer.createTransport({
    host: lmtp.host,
    port: lmtp.port,
    lmtp: true,
    secure: false,
    ignoreTLS: true,
  })
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        transport
          .sendMail({
            envelope: {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
            },
            raw: Buffer.concat(chunks),
          })
          .then((info) => {
            if (info.rejected && info.rejected.length > 0) {
              const err = new Error(`LMTP refused ${info.rejected.join(', ')}`) as Error & {
                responseCode: number
              }
              err.responseCode = 450
              callback(err)
            } else callback()
          })
          .catch((err: Error & { responseCode?: number }) => {
            const failure = new Error(err.message) as Error & { responseCode: number }
            failure.responseCode = err.responseCode ?? 451
            callback(failure)
          })
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  return {
    host: '127.0.0.1',
    port,
    async close() {
      transport.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
