import { PIPELINE_EVENTS } from '../pipeline/events.js'
import type { AcceptedMessage, ProcessingResult } from '../pipeline/processor.js'
import type { RetroRemediated } from '../remediation/retro.js'

/** The detections the hub can raise incidents for (the hub's `DETECTIONS`). */
export type Detection = 'virus' | 'malicious_url' | 'retro_remediation' | 'blocked_user'

export interface Observable {
  type: string
  value: string
}

/** The message part of an event body (the hub's `gatewayEventSchema`). */
export interface EventMessage {
  mid: string
  messageId: string | null
  subject: string | null
  sender: string | null
  recipients: string[]
  direction: 'incoming' | 'outgoing'
}

/** An event body for the hub (validated there by `gatewayEventSchema`). */
export type IntelEvent =
  | {
      kind: 'detection'
      detection: Detection
      key: Observable
      at: number
      message: EventMessage
      verdict: string | null
    }
  | { kind: 'message_observed'; at: number; message: EventMessage; observables: Observable[] }

const clip = (value: string | null, max: number): string | null =>
  value === null ? null : value.slice(0, max)

/** A message for the hub, each field within the hub's limits. */
function clippedMessage(m: {
  mid: number
  messageId: string | null
  subject: string | null
  sender: string | null
  recipients: readonly string[]
  direction: 'incoming' | 'outgoing'
}): EventMessage {
  return {
    mid: String(m.mid),
    messageId: clip(m.messageId, 998),
    subject: clip(m.subject, 998),
    sender: clip(m.sender, 320),
    recipients: m.recipients.slice(0, 1000).map((r) => r.slice(0, 320)),
    direction: m.direction,
  }
}

export function eventMessageOf(message: AcceptedMessage): EventMessage {
  return clippedMessage({
    mid: message.mid,
    messageId: message.headers.messageId,
    subject: message.headers.subject,
    sender: message.envelope.mailFrom === '' ? null : message.envelope.mailFrom,
    recipients: message.envelope.recipients,
    direction: message.direction,
  })
}

interface ScanDetails {
  scanner?: string
  verdicts?: string[]
  findings?: string[]
  details?: { entries?: { kind?: string; matched?: string }[]; signature?: string }
}

const PHISHING_VERDICTS = new Set(['credential-form', 'deceptive-link'])
// Where the pipeline's findings name the URL a phishing verdict is about.
const URL_IN_FINDING = [/ but goes to (\S+)$/, /^form posting to (\S+) asks/]

function scansOf(result: ProcessingResult): ScanDetails[] {
  return (result.events ?? [])
    .filter((e) => e.event === PIPELINE_EVENTS.SCANNED)
    .map((e) => (e.details ?? {}) as ScanDetails)
}

/**
 * The URL a malicious-URL detection is about: a block-list hit on a URL or URL domain (what
 * matched), else the link a phishing check named, else the message's first URL.
 */
function maliciousUrl(scans: ScanDetails[], observables: Observable[]): string | null {
  for (const scan of scans) {
    for (const entry of scan.details?.entries ?? []) {
      if ((entry.kind === 'url' || entry.kind === 'url_domain') && entry.matched)
        return entry.matched
    }
  }
  const phishing = scans.filter((s) => (s.verdicts ?? []).some((v) => PHISHING_VERDICTS.has(v)))
  if (phishing.length === 0) return null
  for (const finding of phishing.flatMap((s) => s.findings ?? [])) {
    for (const pattern of URL_IN_FINDING) {
      const url = pattern.exec(finding)?.[1]
      if (url && /^https?:\/\//i.test(url)) return url
    }
  }
  return observables.find((o) => o.type === 'url')?.value ?? null
}

/**
 * The detections a processed message raises, each with the key the hub groups campaigns by:
 * a virus by the attachment's SHA-256 (else the sender), a malicious URL by the URL, a blocked
 * user by the address.
 */
export function detectionsOf(
  message: AcceptedMessage,
  result: ProcessingResult,
  at: number,
): IntelEvent[] {
  const observables = (result.observables ?? []) as Observable[]
  const scans = scansOf(result)
  const base = { kind: 'detection' as const, at, message: eventMessageOf(message) }
  const out: IntelEvent[] = []
  const virus = scans.find((s) => s.verdicts?.includes('virus'))
  if (virus) {
    const hash = observables.find((o) => o.type === 'sha256')
    const key =
      hash ??
      (message.envelope.mailFrom
        ? { type: 'email', value: message.envelope.mailFrom.toLowerCase() }
        : null)
    if (key)
      out.push({
        ...base,
        detection: 'virus',
        key,
        verdict: clip(virus.details?.signature ?? virus.findings?.[0] ?? 'virus', 512),
      })
  }
  const url = maliciousUrl(scans, observables)
  if (url)
    out.push({
      ...base,
      detection: 'malicious_url',
      key: { type: 'url', value: url.slice(0, 2048) },
      verdict: scans
        .flatMap((s) => s.verdicts ?? [])
        .filter((v) => v === 'blocked' || PHISHING_VERDICTS.has(v))
        .join(',')
        .slice(0, 512),
    })
  for (const event of result.events ?? []) {
    if (event.event !== PIPELINE_EVENTS.SENDER_BLOCKED) continue
    const sender = (event.details as { sender?: string } | undefined)?.sender
    if (sender)
      out.push({
        ...base,
        detection: 'blocked_user',
        key: { type: 'email', value: sender.toLowerCase() },
        verdict: 'sender blocked by policy',
      })
  }
  return out
}

/** The observable type the hub knows a block-list entry's value by. */
const RETRO_KEY_TYPES: Record<string, (value: string) => string> = {
  url: () => 'url',
  url_domain: () => 'domain',
  sender_domain: () => 'domain',
  sender_address: () => 'email',
  attachment_hash: () => 'sha256',
  sender_ip: (value) => (value.includes(':') ? 'ipv6' : 'ip'),
}

/**
 * The `retro_remediation` detections of a retro-remediation run: one per message it pulls
 * back, keyed by the blocked value that made the delivered mail malicious, so the hub groups
 * the run's messages (and later runs for the same value) into one incident.
 */
export function retroDetectionsOf(run: RetroRemediated): IntelEvent[] {
  const type = RETRO_KEY_TYPES[run.entry.kind]?.(run.entry.value)
  if (!type) return []
  const key = { type, value: run.entry.value.slice(0, 2048) }
  const verdict = clip(
    `retro-remediation (${run.action}): ${run.entry.kind} blocked by ${run.entry.createdBy} via ${run.entry.source}`,
    512,
  )
  return run.messages.map((m) => ({
    kind: 'detection' as const,
    detection: 'retro_remediation' as const,
    key,
    at: run.at,
    message: clippedMessage(m),
    verdict,
  }))
}

/** The message's observables an active watch names (compared case-insensitively). */
export function watchedIn(result: ProcessingResult, watched: ReadonlySet<string>): Observable[] {
  if (watched.size === 0) return []
  return ((result.observables ?? []) as Observable[]).filter((o) => watched.has(watchKey(o)))
}

export function watchKey(o: Observable): string {
  return `${o.type}\u0000${o.value.toLowerCase()}`
}
