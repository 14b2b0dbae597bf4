import type { Observable } from '@postern/ctim'
import type { SearchRow } from '@postern/store'
import { messageSighting } from '../../apps/gateway/src/relay-module/sightings.js'

const RECIPIENTS = ['alice', 'bob', 'carol', 'dave']

/**
 * The observe answer of one gateway as a real gateway builds it (`messageSighting`, one CTIM
 * sighting per tracked message: sender `Sent_To` each recipient, the message `Contains` its
 * Message-ID and subject, the connecting IP, recipient mailboxes as targets), for messages
 * this gateway "saw" carrying the observable (`messages` of them, each to four mailboxes).
 */
export function observeAnswer(
  gateway: string,
  observables: Observable[],
  messages: number,
): unknown {
  const docs = observables.flatMap((observable) =>
    Array.from({ length: messages }, (_, n) => {
      const mid = 1000 + n
      const row: SearchRow = {
        mid,
        icid: 500 + n,
        receivedAt: Date.UTC(2026, 0, 1, 10, n),
        direction: 'incoming',
        senderIp: `198.51.100.${10 + n}`,
        envelopeSender: `helpdesk@${observable.value.replace(/^.*@/, '')}`,
        senderDomain: observable.value.replace(/^.*@/, ''),
        recipients: RECIPIENTS.map((r) => `${r}@${gateway}.example.org`),
        recipientCount: RECIPIENTS.length,
        subject: 'Your password expires today',
        messageId: `<invoice-${n}-${gateway}@${observable.value}>`,
        status: 'delivered',
        size: 18_000 + n,
        verdicts: ['phish'],
        policy: null,
      }
      return messageSighting(observable, row, null, {
        gatewayName: `${gateway}.example.org`,
        messageUrl: (m) => `https://${gateway}.example.org/console/tracking/${m}`,
      })
    }),
  )
  return { data: { sightings: { count: docs.length, docs } } }
}
