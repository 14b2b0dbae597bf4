import nodemailer, { type Transporter } from 'nodemailer'
import { describeError } from '@postern/core'
import type { RemediationConfig } from './config.js'
import { gwErrors } from '../errors.js'

export interface ForwardRequest {
  raw: Buffer
  to: string[]
  /** The mailbox the message was taken from. */
  mailbox: string
  messageId: string
  mids: number[]
  runId: string
  action: string
  reason: string
  requestedBy: string
  /** `message`: this one forward stands for every mailbox of the run that had the message. */
  scope: 'mailbox' | 'message'
}

type RelayConfig = NonNullable<RemediationConfig['relay']>

/**
 * Sends remediated messages to the SOC mailbox: a short explanation with the original attached
 * unchanged as `message/rfc822` (RFC 2046 §5.2.1), so that headers and attachments reach the
 * analysts exactly as the recipient got them. Marked `Auto-Submitted: auto-generated`
 * (RFC 3834 §5) so that nobody's vacation reply answers it.
 */
export class Forwarder {
  private readonly transport: Transporter

  constructor(
    private readonly forward: RemediationConfig['forward'],
    relay: RelayConfig,
    relayPassword?: string,
  ) {
    this.transport = nodemailer.createTransport({
      host: relay.host,
      port: relay.port,
      secure: relay.security === 'tls',
      requireTLS: relay.security === 'starttls',
      ignoreTLS: relay.security === 'none',
      tls: { rejectUnauthorized: relay.rejectUnauthorized },
      auth: relay.user ? { user: relay.user, pass: relayPassword ?? '' } : undefined,
      pool: true,
      maxConnections: relay.maxConnections,
      connectionTimeout: relay.timeoutMs,
      greetingTimeout: relay.timeoutMs,
      socketTimeout: relay.timeoutMs,
      disableFileAccess: true,
      disableUrlAccess: true,
    })
  }

  async send(request: ForwardRequest): Promise<void> {
    const subject = originalSubject(request.raw)
    try {
      const info = await this.transport.sendMail({
        from: this.forward.from,
        to: request.to,
        envelope: { from: this.forward.from, to: request.to },
        subject: `${this.forward.subjectPrefix} ${subject}`.trim(),
        headers: {
          'Auto-Submitted': 'auto-generated',
          'X-Postern-Remediation': `run=${request.runId}; action=${request.action}`,
        },
        text: [
          `This message was ${request.action === 'forward' ? 'forwarded' : 'forwarded and deleted'} by Postern mailbox remediation.`,
          '',
          request.scope === 'message'
            ? `Mailbox:     ${request.mailbox} (copy forwarded; the run's results list every mailbox that had it)`
            : `Mailbox:     ${request.mailbox}`,
          `Message-ID:  <${request.messageId}>`,
          `MID:         ${request.mids.join(', ') || '(not tracked)'}`,
          `Run:         ${request.runId}`,
          `Requested by ${request.requestedBy}`,
          `Reason:      ${request.reason || '(none given)'}`,
          '',
          'The original message is attached unchanged. Open it with care.',
        ].join('\n'),
        attachments: [
          {
            filename: 'original-message.eml',
            content: request.raw,
            contentType: 'message/rfc822',
            // An attachment, not an inline part, so mail clients show it as a file to open.
            contentDisposition: 'attachment',
          },
        ],
      })
      if (info.rejected && info.rejected.length > 0) {
        throw new Error(`rejected ${info.rejected.join(', ')}: ${info.response}`)
      }
    } catch (err) {
      const code = (err as { responseCode?: number }).responseCode
      throw gwErrors.REMEDIATION_FORWARD_FAILED(
        {
          mailbox: request.mailbox,
          reason: describeError(err),
          transient: code === undefined || (code >= 400 && code < 500),
        },
        { cause: err },
      )
    }
  }

  close(): void {
    this.transport.close()
  }
}

/** The Subject of the original (unfolded, control characters removed; encoded words kept). */
function originalSubject(raw: Buffer): string {
  const head = raw.subarray(0, 64 * 1024).toString('latin1')
  const end = head.search(/\r?\n\r?\n/)
  const unfolded = (end >= 0 ? head.slice(0, end) : head).replace(/\r?\n[ \t]+/g, ' ')
  const match = /^subject:[ \t]*(.*)$/im.exec(unfolded)
  // eslint-disable-next-line no-control-regex
  return (match?.[1] ?? '').replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 200)
}
