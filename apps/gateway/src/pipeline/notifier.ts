import MailComposer from 'nodemailer/lib/mail-composer/index.js'

/** Queues messages the gateway writes itself (policy notifications); the gateway core implements it. */
export interface MailInjector {
  inject(message: {
    from: string
    to: readonly string[]
    raw: Buffer
    /** The message the notification is about. */
    relatedMid: number
    /** Why the gateway sends it, for tracking. */
    reason: string
  }): Promise<void>
}

export interface NotificationFacts {
  hostname: string
  from: string
  to: readonly string[]
  subject: string | null
  mid: number
  direction: string
  envelopeSender: string
  recipients: readonly string[]
  messageSubject: string | null
  verdicts: readonly string[]
  policy: string
  rule: string
  action: string
}

/**
 * A plain-text notification about a policy decision. It names the message (MID, sender,
 * recipients, subject) and what was decided; it never carries the message itself, so that a
 * notification cannot deliver what the policy stopped. Marked `Auto-Submitted: auto-generated`
 * (RFC 3834 §5) so that auto-responders do not answer it.
 */
export async function buildNotification(facts: NotificationFacts): Promise<Buffer> {
  const lines = [
    `A mail policy on ${facts.hostname} acted on a message.`,
    '',
    `MID:         ${facts.mid}`,
    `Direction:   ${facts.direction}`,
    `Sender:      ${facts.envelopeSender || '<>'}`,
    `Recipients:  ${facts.recipients.join(', ')}`,
    `Subject:     ${facts.messageSubject ?? '(none)'}`,
    `Verdicts:    ${facts.verdicts.length > 0 ? facts.verdicts.join(', ') : '(none)'}`,
    `Policy:      ${facts.policy}, rule ${facts.rule}`,
    `Action:      ${facts.action}`,
    '',
    'Look the MID up in message tracking for the full timeline.',
  ]
  const composer = new MailComposer({
    from: facts.from,
    to: [...facts.to],
    subject: facts.subject ?? `[Postern] ${facts.action}: MID ${facts.mid}`,
    text: lines.join('\n'),
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Postern-MID': String(facts.mid) },
  })
  return composer.compile().build()
}
