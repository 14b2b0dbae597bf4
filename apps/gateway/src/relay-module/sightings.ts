import {
  CTIM_SCHEMA_VERSION,
  transientId,
  type Observable,
  type ObservedRelation,
  type Sighting,
} from '@postern/ctim'
import type { MessageDetail, SearchRow } from '@postern/store'

export const MODULE_SOURCE = 'Postern Email Gateway'

/** Verdicts that make a message malicious, and those that make it suspicious. */
const MALICIOUS = new Set(['virus', 'phish'])
const SUSPICIOUS = new Set(['spam', 'blocked', 'authentication_failed', 'malformed', 'policy'])
const BLOCKED_STATUSES = new Set(['rejected', 'quarantined', 'dropped', 'deleted', 'bounced'])

export interface SightingContext {
  /** Who this gateway is (its hostname), shown in titles and as the sensor coordinates. */
  gatewayName: string
  /** Link to the message in the gateway console. */
  messageUrl: (mid: number) => string
}

const iso = (ms: number) => new Date(ms).toISOString()

function severityOf(verdicts: string[]): Sighting['severity'] {
  if (verdicts.some((v) => MALICIOUS.has(v))) return 'High'
  if (verdicts.some((v) => SUSPICIOUS.has(v))) return 'Medium'
  return 'Info'
}

function bare(messageId: string): string {
  return messageId.trim().replace(/^<|>$/g, '')
}

/**
 * One CTIM sighting per tracked message (reference §6, our inference from the public ESA
 * samples): observed time, sender `Sent_To` each recipient, the message (`cisco_mid`)
 * `Contains` its URLs and attachment hashes and names, its Message-ID and subject, the
 * connecting IP; `targets` are the recipient mailboxes; verdicts in the description and data.
 */
export function messageSighting(
  observable: Observable,
  row: SearchRow,
  detail: MessageDetail | null,
  context: SightingContext,
): Sighting {
  const at = iso(row.receivedAt)
  const mid: Observable = { type: 'cisco_mid', value: String(row.mid) }
  const sender: Observable | null = row.envelopeSender
    ? { type: 'email', value: row.envelopeSender.toLowerCase() }
    : null
  const recipients = (detail?.recipients.map((r) => r.address) ?? row.recipients).map((r) =>
    r.toLowerCase(),
  )
  const verdicts = detail?.analysis?.verdicts ?? row.verdicts
  const relation = (
    relationType: ObservedRelation['relation'],
    source: Observable,
    related: Observable,
  ): ObservedRelation => ({
    origin: MODULE_SOURCE,
    origin_uri: context.messageUrl(row.mid),
    relation: relationType,
    source,
    related,
  })
  const relations: ObservedRelation[] = []
  for (const recipient of recipients) {
    if (sender) relations.push(relation('Sent_To', sender, { type: 'email', value: recipient }))
  }
  if (sender) relations.push(relation('Sent', sender, mid))
  if (row.senderIp) {
    relations.push(
      relation('Received_From', mid, {
        type: row.senderIp.includes(':') ? 'ipv6' : 'ip',
        value: row.senderIp,
      }),
    )
  }
  if (row.messageId)
    relations.push(
      relation('Contains', mid, { type: 'email_messageid', value: bare(row.messageId) }),
    )
  if (row.subject)
    relations.push(relation('Contains', mid, { type: 'email_subject', value: row.subject }))
  for (const url of detail?.urls ?? [])
    relations.push(relation('Contains', mid, { type: 'url', value: url.url }))
  for (const attachment of detail?.attachments ?? []) {
    if (attachment.sha256)
      relations.push(relation('Contains', mid, { type: 'sha256', value: attachment.sha256 }))
    if (attachment.filename)
      relations.push(relation('Contains', mid, { type: 'file_name', value: attachment.filename }))
  }

  const direction = row.direction === 'outgoing' ? 'Outgoing' : 'Incoming'
  const subject = row.subject ?? '(no subject)'
  const description = [
    `${direction} message MID ${row.mid} on ${context.gatewayName}`,
    `from ${row.envelopeSender || '<>'} to ${recipients.join(', ') || '(no recipients)'}`,
    `subject "${subject}"`,
    `status ${row.status}`,
    verdicts.length > 0 ? `verdicts ${verdicts.join(', ')}` : 'no verdicts',
  ].join('; ')
  return {
    id: transientId('sighting'),
    type: 'sighting',
    schema_version: CTIM_SCHEMA_VERSION,
    source: MODULE_SOURCE,
    source_uri: context.messageUrl(row.mid),
    title: `${direction} message "${subject}" on ${context.gatewayName}`.slice(0, 1024),
    description: description.slice(0, 5000),
    count: 1,
    confidence: 'High',
    severity: severityOf(verdicts),
    sensor: 'process.email-service',
    sensor_coordinates: {
      type: 'process.email-service',
      observables: [{ type: 'hostname', value: context.gatewayName }],
    },
    resolution: BLOCKED_STATUSES.has(row.status) ? 'blocked' : 'allowed',
    internal: row.direction === 'outgoing',
    observed_time: { start_time: at, end_time: at },
    observables: [observable],
    relations,
    targets: recipients.map((recipient) => ({
      type: 'process.email-service',
      observables: [{ type: 'email', value: recipient }],
      observed_time: { start_time: at, end_time: at },
    })),
    data: {
      columns: [
        { name: 'mid', type: 'integer' },
        { name: 'message_id', type: 'string' },
        { name: 'direction', type: 'string' },
        { name: 'status', type: 'string' },
        { name: 'verdicts', type: 'string' },
      ],
      rows: [
        [
          row.mid,
          row.messageId ? bare(row.messageId) : null,
          row.direction,
          row.status,
          verdicts.join(','),
        ],
      ],
      row_count: 1,
    },
    timestamp: at,
  } as Sighting
}

/** CTIM disposition from a message's verdicts: 2 Malicious, 3 Suspicious, else none. */
export function dispositionOf(verdicts: string[]): 2 | 3 | null {
  if (verdicts.some((v) => MALICIOUS.has(v))) return 2
  if (verdicts.some((v) => SUSPICIOUS.has(v) && v !== 'policy')) return 3
  return null
}
