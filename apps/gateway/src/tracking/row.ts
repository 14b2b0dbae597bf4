import type { MessageStatus } from '@postern/store'
import type { MessageMeta } from '../spool/types.js'

/**
 * The tracking row of a message from its spool metadata: written when the listener accepts or
 * refuses it, when delivery recovers it after a restart, and for a generated DSN.
 */
export function trackingRow(
  meta: MessageMeta,
  status: MessageStatus,
  options: { reply?: string | null; recipients?: readonly string[] } = {},
) {
  return {
    mid: meta.mid,
    icid: meta.icid,
    receivedAt: meta.receivedAt,
    listener: meta.client.listener,
    senderGroup: meta.client.senderGroup,
    hatPolicy: meta.client.hatPolicy,
    direction: meta.direction,
    senderIp: meta.client.ip,
    senderRdns: meta.client.rdns,
    helo: meta.client.helo,
    tls: meta.client.tls,
    authUser: meta.client.authUser,
    envelopeSender: meta.envelope.mailFrom,
    messageId: meta.headers.messageId,
    subject: meta.headers.subject,
    headerFrom: meta.headers.from,
    headerTo: meta.headers.to,
    headerReplyTo: meta.headers.replyTo,
    size: meta.size,
    status,
    reply: options.reply ?? null,
    recipients: (options.recipients ?? meta.envelope.recipients).map((address) => ({
      address,
      status: 'queued' as const,
    })),
  }
}
