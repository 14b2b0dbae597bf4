import { z } from 'zod'
import {
  ConfidenceSchema,
  SeveritySchema,
  TimeSchema,
  TlpSchema,
  baseFields,
  newBaseFields,
  storedFields,
} from './common.js'
import { INCIDENT_STATUSES, type IncidentStatus } from './vocabularies.js'

export const IncidentStatusSchema = z
  .enum(INCIDENT_STATUSES)
  .describe('Incident status, e.g. New, Open, "Open: Investigating", Hold, Closed')

/** The times of an incident's life: `opened` required, the others set as it moves on. */
export const IncidentTimeSchema = z
  .strictObject({
    opened: TimeSchema.describe('When the incident was opened'),
    discovered: TimeSchema.optional().describe('When it was discovered'),
    reported: TimeSchema.optional().describe('When it was reported'),
    remediated: TimeSchema.optional().describe('When it was remediated'),
    closed: TimeSchema.optional().describe('When it was closed'),
    rejected: TimeSchema.optional().describe('When it was rejected'),
  })
  .describe('Incident times')

const incidentFields = {
  type: z.literal('incident').describe('Always "incident"'),
  confidence: ConfidenceSchema,
  status: IncidentStatusSchema,
  incident_time: IncidentTimeSchema,
  severity: SeveritySchema.optional(),
  categories: z
    .array(z.string().max(1024))
    .optional()
    .describe('e.g. "Malicious Code" (open vocabulary)'),
  discovery_method: z
    .string()
    .max(1024)
    .optional()
    .describe('How it was discovered, e.g. "Antivirus"'),
  intended_effect: z
    .string()
    .max(1024)
    .optional()
    .describe('Suspected intended effect, e.g. "Theft - Credential Theft"'),
  assignees: z.array(z.string().max(1024)).optional().describe('Users assigned to the incident'),
  promotion_method: z.string().max(1024).optional().describe('"Manual" or "Automated"'),
  tactics: z.array(z.string().max(1024)).optional().describe('MITRE ATT&CK tactic ids'),
  techniques: z.array(z.string().max(1024)).optional().describe('MITRE ATT&CK technique ids'),
  scores: z
    .record(z.string(), z.number())
    .optional()
    .describe('Named scores, e.g. {"asset": 10, "ttp": 50}'),
}

/**
 * An incident as clients create it (CTIM `NewIncident`): confidence, status and
 * `incident_time.opened` required.
 *
 * @example
 * NewIncidentSchema.parse({ confidence: 'High', status: 'New', incident_time: { opened: '2024-03-12T09:30:15.000Z' }, title: 'Phishing wave' })
 */
export const NewIncidentSchema = z
  .strictObject({ ...newBaseFields, ...incidentFields, type: incidentFields.type.optional() })
  .describe('A new incident')
export type NewIncident = z.output<typeof NewIncidentSchema>

/** An incident as served. */
export const IncidentSchema = z
  .strictObject({ ...baseFields, ...storedFields, ...incidentFields })
  .describe('An incident')
export type Incident = z.output<typeof IncidentSchema>

/** Body of `POST /ctia/incident/{id}/status`. */
export const IncidentStatusUpdateSchema = z
  .strictObject({ status: IncidentStatusSchema })
  .describe('New status of the incident')

/**
 * Body of `POST /ctia/incident/{id}/link`: exactly one of `casebook_id` and `investigation_id`,
 * optionally the TLP of the relationship created.
 */
export const IncidentLinkSchema = z
  .strictObject({
    casebook_id: z.string().min(1).optional().describe('Casebook to link (full id or short id)'),
    investigation_id: z.string().min(1).optional().describe('Investigation to link'),
    tlp: TlpSchema.optional(),
  })
  .superRefine((body, ctx) => {
    const given = [body.casebook_id, body.investigation_id].filter((v) => v !== undefined).length
    if (given !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'exactly one of casebook_id and investigation_id is required',
      })
    }
  })
  .describe('What to link the incident to')

function family(status: IncidentStatus): string {
  return status.split(':')[0] as string
}

/**
 * The incident after a status change, with `incident_time` following CTIA's rules: the first move
 * into an Open status sets `opened` (moving between Open statuses keeps it), Closed sets `closed`,
 * Rejected sets `rejected`, Containment/Restoration Achieved set `remediated`, Incident Reported
 * sets `reported`.
 *
 * @example
 * const updated = applyIncidentStatus(incident, 'Closed: False Positive', new Date())
 */
export function applyIncidentStatus<
  T extends { status: IncidentStatus; incident_time: z.output<typeof IncidentTimeSchema> },
>(incident: T, status: IncidentStatus, now: Date): T {
  const time = { ...incident.incident_time }
  const at = now.toISOString()
  const next = family(status)
  if (next === 'Open' && family(incident.status) !== 'Open') time.opened = at
  if (next === 'Closed') time.closed = at
  if (status === 'Rejected') time.rejected = at
  if (status === 'Containment Achieved' || status === 'Restoration Achieved') time.remediated = at
  if (status === 'Incident Reported') time.reported = at
  return { ...incident, status, incident_time: time }
}
