import type { Logger } from '@postern/core'
import { CASEBOOK_MAX_OBSERVABLES, CASEBOOK_MAX_TEXTS } from '@postern/ctim'
import type { CtiaEntity, IncidentStore } from '@postern/store'
import type { Caller } from '../casebooks/caller.js'
import type { CtiaEntityService } from '../casebooks/ctia-entity-service.js'
import type { IncidentService } from './incident-service.js'

/** Detections a gateway reports that can raise incidents (the org picks which). */
export const DETECTIONS = ['virus', 'malicious_url', 'retro_remediation', 'blocked_user'] as const
export type Detection = (typeof DETECTIONS)[number]

/**
 * A detection a gateway reports through the tunnel. `key` is what groups messages into one
 * campaign: the URL, sender, attachment hash or user the detection is about.
 */
export interface DetectionEvent {
  orgId: string
  deviceId: string
  detection: Detection
  key: { type: string; value: string }
  /** When the gateway saw it (epoch ms). */
  at: number
  message: {
    /** The gateway's message id (MID). */
    mid: string
    messageId?: string | null
    subject?: string | null
    sender?: string | null
    recipients?: string[]
  }
  /** Scanner verdict or signature name, e.g. "Eicar-Test-Signature". */
  verdict?: string | null
}

export interface AutoIncidentPolicy {
  /** Detections that raise incidents; others are ignored. */
  detections: readonly Detection[]
  /** Messages with the same key within this window join the open incident (ms). */
  windowMs: number
}

export interface AutoIncidentResult {
  outcome: 'ignored' | 'opened' | 'grouped'
  incidentId?: string
  casebookId?: string
}

const LABEL: Record<Detection, { title: string; category: string; severity: string }> = {
  virus: { title: 'Virus in mail', category: 'Malicious Code', severity: 'High' },
  malicious_url: { title: 'Malicious URL in mail', category: 'Malicious Code', severity: 'High' },
  retro_remediation: {
    title: 'Delivered mail turned malicious',
    category: 'Malicious Code',
    severity: 'Critical',
  },
  blocked_user: { title: 'Blocked user', category: 'Unauthorized Access', severity: 'High' },
}

/** The hub acting on its own behalf, for entities it creates from gateway events. */
export function hubCaller(orgId: string): Caller {
  return { kind: 'system', orgId, userId: null, clientId: null }
}

/**
 * Raises incidents from gateway detections, one per campaign: the first message with a given
 * key opens an incident with a casebook of the campaign's observables; later messages with
 * the same key within the window add their observables to that casebook instead of opening
 * another incident. The window slides: each message extends it.
 */
export class AutoIncidents {
  constructor(
    private readonly deps: {
      entities: CtiaEntityService
      incidents: IncidentService
      campaigns: IncidentStore
      logger: Logger
    },
  ) {}

  async handle(event: DetectionEvent, policy: AutoIncidentPolicy): Promise<AutoIncidentResult> {
    if (!policy.detections.includes(event.detection)) return { outcome: 'ignored' }
    const caller = hubCaller(event.orgId)
    const since = event.at - policy.windowMs
    const observables = observablesOf(event)

    const open = await this.deps.campaigns.openCampaign(
      event.orgId,
      event.detection,
      event.key,
      since,
    )
    if (open) return this.group(caller, event, open.incidentId, observables)

    const { incident, casebook } = await this.open(caller, event, observables)
    const won = await this.deps.campaigns.claimCampaign(
      {
        orgId: event.orgId,
        detection: event.detection,
        keyType: event.key.type,
        keyValue: event.key.value,
        incidentId: incident.id,
        firstSeen: event.at,
      },
      since,
    )
    if (won) {
      this.deps.logger.info(
        {
          event: 'INCIDENT_AUTO_OPENED',
          orgId: event.orgId,
          incidentId: incident.id,
          detection: event.detection,
          deviceId: event.deviceId,
          mid: event.message.mid,
        },
        'incident opened from a gateway detection',
      )
      return { outcome: 'opened', incidentId: incident.id, casebookId: casebook.id }
    }
    // Another hub node opened the campaign's incident at the same moment: keep theirs.
    await this.deps.entities.store.delete(event.orgId, 'incident', incident.id)
    await this.deps.entities.store.delete(event.orgId, 'casebook', casebook.id)
    const winner = await this.deps.campaigns.openCampaign(
      event.orgId,
      event.detection,
      event.key,
      since,
    )
    return this.group(caller, event, winner!.incidentId, observables)
  }

  private async open(
    caller: Caller,
    event: DetectionEvent,
    observables: { type: string; value: string }[],
  ): Promise<{ incident: CtiaEntity; casebook: CtiaEntity }> {
    const label = LABEL[event.detection]
    const when = new Date(event.at).toISOString()
    const title = `${label.title}: ${event.key.value}`.slice(0, 1024)
    const incident = await this.deps.incidents.create(
      caller,
      {
        title,
        short_description: `Raised by gateway ${event.deviceId} for ${event.key.type} ${event.key.value}`,
        description: describeMessage(event),
        status: 'New',
        confidence: 'High',
        severity: label.severity,
        categories: [label.category],
        discovery_method: 'Automated',
        promotion_method: 'Automated',
        incident_time: { opened: when, discovered: when },
        source: `Postern gateway ${event.deviceId}`,
        timestamp: when,
        tlp: 'amber',
      },
      { source: 'tunnel' },
    )
    const casebook = await this.linkCasebook(caller, event, incident.id, title, observables)
    return { incident, casebook }
  }

  /** A new casebook with the message's observables and note, linked to the incident. */
  private async linkCasebook(
    caller: Caller,
    event: DetectionEvent,
    incidentId: string,
    title: string,
    observables: { type: string; value: string }[],
  ): Promise<CtiaEntity> {
    const casebook = await this.deps.entities.create(
      caller,
      'casebook',
      {
        title,
        short_description: `Observables of incident ${incidentId}`,
        observables,
        texts: [{ type: 'note', text: describeMessage(event) }],
        tlp: 'amber',
        timestamp: new Date(event.at).toISOString(),
        source: `Postern gateway ${event.deviceId}`,
      },
      { source: 'tunnel' },
    )
    await this.deps.incidents.link(
      caller,
      incidentId,
      { casebook_id: casebook.id },
      { source: 'tunnel' },
    )
    return casebook
  }

  private async group(
    caller: Caller,
    event: DetectionEvent,
    incidentId: string,
    observables: { type: string; value: string }[],
  ): Promise<AutoIncidentResult> {
    await this.deps.campaigns.touchCampaign(event.orgId, event.detection, event.key, event.at)
    const linked = await this.deps.incidents.linkedCasebooks(caller, incidentId)
    // An analyst who unlinked every casebook chose not to collect the campaign's messages.
    if (linked.length === 0) return { outcome: 'grouped', incidentId }
    const withRoom = linked.find((c) => hasRoomFor(c, observables.length))
    if (!withRoom) {
      // A campaign bigger than one casebook holds goes on in another linked to the incident,
      // rather than failing every further message (and holding up the gateway's queue).
      const title = `${LABEL[event.detection].title}: ${event.key.value}`.slice(0, 1000)
      const part = `${title} (part ${linked.length + 1})`
      const casebook = await this.linkCasebook(caller, event, incidentId, part, observables)
      return { outcome: 'grouped', incidentId, casebookId: casebook.id }
    }
    // Observables and note in one change: one read and write of a casebook that grows with
    // the campaign, and no casebook holding a message's observables without its note.
    await this.deps.entities.patch(
      caller,
      'casebook',
      withRoom.id,
      { observables, texts: [{ type: 'note', text: describeMessage(event) }] },
      'add',
      { source: 'tunnel', action: 'message.add' },
    )
    return { outcome: 'grouped', incidentId, casebookId: withRoom.id }
  }
}

/** Whether a casebook can take one more message: its observables and one note. */
function hasRoomFor(casebook: CtiaEntity, observables: number): boolean {
  const listed = (field: string) => {
    const value = casebook.doc[field]
    return Array.isArray(value) ? value.length : 0
  }
  return (
    listed('observables') + observables <= CASEBOOK_MAX_OBSERVABLES &&
    listed('texts') < CASEBOOK_MAX_TEXTS
  )
}

/** The campaign key plus what identifies the message, as CTIM observables. */
function observablesOf(event: DetectionEvent): { type: string; value: string }[] {
  const list = [{ type: event.key.type, value: event.key.value }]
  list.push({ type: 'cisco_mid', value: event.message.mid })
  if (event.message.messageId)
    list.push({ type: 'email_messageid', value: event.message.messageId })
  if (event.message.sender) list.push({ type: 'email', value: event.message.sender })
  if (event.message.subject) list.push({ type: 'email_subject', value: event.message.subject })
  return list
}

/** One Markdown line per message; every attacker-controlled value is escaped. */
function describeMessage(event: DetectionEvent): string {
  const parts = [
    `${new Date(event.at).toISOString()} — gateway ${markdownText(event.deviceId)}, MID ${markdownText(event.message.mid)}`,
  ]
  if (event.message.sender) parts.push(`from ${markdownText(event.message.sender)}`)
  if (event.message.recipients?.length)
    parts.push(`to ${event.message.recipients.slice(0, 20).map(markdownText).join(', ')}`)
  if (event.message.subject) parts.push(`subject "${markdownText(event.message.subject)}"`)
  if (event.verdict) parts.push(`verdict ${markdownText(event.verdict)}`)
  return parts.join(', ')
}

/**
 * Escapes the Markdown metacharacters that make links, images, emphasis, code or HTML, so a
 * subject line cannot inject any of them into a description the console renders.
 */
export function markdownText(value: string): string {
  return value
    .slice(0, 998)
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\\`*_[\]<>]/g, (ch) => `\\${ch}`)
}
