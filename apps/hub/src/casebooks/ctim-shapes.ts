import { z } from 'zod'

/**
 * The CTIM request shapes the private-intelligence routes validate (reference §3). These are
 * the subset this area needs, kept in one file so that they can give way to `@postern/ctim`'s
 * complete schemas (and its `ctiaValidationBody`) in one import once that package is on main.
 */

/** Observable types of CTIM 1.3 (reference §3). */
export const OBSERVABLE_TYPES = [
  'acudid', 'amp_computer_guid', 'certificate_common_name', 'certificate_issuer',
  'certificate_serial', 'cisco_cm_id', 'cisco_mid', 'cisco_uc_id', 'cortex_agent_id',
  'crowdstrike_id', 'cvm_id', 'cybereason_id', 'darktrace_id', 'device', 'domain', 'email',
  'email_messageid', 'email_subject', 'file_name', 'file_path', 'google_chromebook_id',
  'google_cloud_id', 'hostname', 'imei', 'imsi', 'intune_id', 'ip', 'ipv6',
  'jamf_management_id', 'mac_address', 'md5', 'meraki_network_id', 'meraki_node_sn',
  'meraki_org_id', 'ms_machine_id', 'mutex', 'ngfw_id', 'ngfw_name', 'odns_identity',
  'odns_identity_label', 'orbital_node_id', 'pki_serial', 'process_args', 'process_hash',
  'process_name', 'process_path', 'process_uid', 'process_username', 'processor_id',
  'registry_key', 'registry_name', 'registry_path', 's1_agent_id', 'secure_access_id',
  'serial_number', 'service_now_id', 'sha1', 'sha256', 'swc_device_id', 'trend_micro_id', 'url',
  'user', 'user_agent',
] as const // prettier-ignore

const time = z
  .string()
  .max(64)
  .refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO 8601 time')
  .describe('ISO 8601 time')

export const ObservableSchema = z
  .strictObject({
    type: z.enum(OBSERVABLE_TYPES).describe('Observable type'),
    value: z.string().min(1).max(2048).describe('Observable value'),
  })
  .describe('A CTIM observable')

const TLP = z.enum(['red', 'amber', 'green', 'white', 'clear']).describe('Traffic Light Protocol')
const CONFIDENCE = z.enum(['Info', 'Low', 'Medium', 'High', 'None', 'Unknown'])
const SEVERITY = z.enum(['Info', 'Low', 'Medium', 'High', 'Critical', 'None', 'Unknown'])

const ExternalReference = z.strictObject({
  source_name: z.string().max(1024),
  url: z.string().max(2048).optional(),
  description: z.string().max(5000).optional(),
  external_id: z.string().max(2048).optional(),
  hashes: z.array(z.string().max(1024)).max(100).optional(),
})

/** Fields every new CTIM entity may carry; the server-owned ones are accepted and ignored. */
const baseFields = {
  id: z.string().max(2048).optional(),
  schema_version: z.string().max(64).optional(),
  revision: z.number().int().nonnegative().optional(),
  external_ids: z.array(z.string().min(1).max(2048)).max(100).optional(),
  external_references: z.array(ExternalReference).max(100).optional(),
  timestamp: time.optional(),
  language: z.string().max(1024).optional(),
  tlp: TLP.optional(),
  title: z.string().max(1024).optional(),
  description: z.string().max(65536).optional(),
  short_description: z.string().max(2048).optional(),
  source: z.string().max(2048).optional(),
  source_uri: z.string().max(2048).optional(),
  owner: z.string().max(1024).optional(),
  groups: z.array(z.string().max(1024)).max(100).optional(),
  client_id: z.string().max(1024).optional(),
  created: time.optional(),
  modified: time.optional(),
}

export const CasebookTextSchema = z.strictObject({
  type: z.string().min(1).max(1024),
  text: z.string().max(65536),
})

/** A CTIM bundle as a casebook holds it: entity lists are kept as sent. */
export const BundleSchema = z
  .looseObject({
    type: z.literal('bundle').optional(),
    source: z.string().max(2048).optional(),
  })
  .describe('A CTIM bundle')

export const NewCasebookSchema = z
  .strictObject({
    ...baseFields,
    type: z.literal('casebook').optional(),
    observables: z.array(ObservableSchema).max(10_000).optional(),
    texts: z.array(CasebookTextSchema).max(1000).optional(),
    bundle: BundleSchema.optional(),
  })
  .describe('A new casebook (nothing is required)')

export const CasebookPatchSchema = NewCasebookSchema.describe('Casebook fields to change')

const operation = z.enum(['add', 'remove', 'replace'])
export const CasebookObservablesOperationSchema = z.strictObject({
  operation,
  observables: z.array(ObservableSchema).max(10_000),
})
export const CasebookTextsOperationSchema = z.strictObject({
  operation,
  texts: z.array(CasebookTextSchema).max(1000),
})
export const CasebookBundleOperationSchema = z.strictObject({ operation, bundle: BundleSchema })

export const INCIDENT_STATUSES = [
  'New', 'Stalled', 'Containment Achieved', 'Restoration Achieved', 'Incident Reported',
  'Closed', 'Rejected', 'Closed: Confirmed Threat', 'Closed: Suspected Threat',
  'Closed: False Positive', 'Closed: Other', 'Closed: Merged', 'Closed: Near-Miss', 'Open',
  'Open: Reported', 'Open: Investigating', 'Open: Contained', 'Open: Recovered', 'Hold',
  'Hold: Legal', 'Hold: Other', 'Hold: External', 'Hold: Internal',
] as const // prettier-ignore

const incidentFields = {
  type: z.literal('incident').optional(),
  confidence: CONFIDENCE,
  status: z.enum(INCIDENT_STATUSES),
  incident_time: z.strictObject({
    opened: time,
    discovered: time.optional(),
    reported: time.optional(),
    remediated: time.optional(),
    closed: time.optional(),
    rejected: time.optional(),
  }),
  severity: SEVERITY.optional(),
  categories: z.array(z.string().max(1024)).max(100).optional(),
  discovery_method: z.string().max(1024).optional(),
  intended_effect: z.string().max(1024).optional(),
  assignees: z.array(z.string().max(1024)).max(100).optional(),
  promotion_method: z.string().max(1024).optional(),
  tactics: z.array(z.string().max(1024)).max(100).optional(),
  techniques: z.array(z.string().max(1024)).max(100).optional(),
  scores: z.record(z.string().max(256), z.number()).optional(),
}

export const NewIncidentSchema = z
  .strictObject({ ...baseFields, ...incidentFields })
  .describe('A new incident (confidence, status and incident_time.opened required)')

export const IncidentPatchSchema = NewIncidentSchema.partial().describe('Incident fields to change')

export const IncidentStatusUpdateSchema = z.strictObject({ status: z.enum(INCIDENT_STATUSES) })

export const IncidentLinkSchema = z
  .strictObject({
    casebook_id: z.string().min(1).max(2048).optional(),
    investigation_id: z.string().min(1).max(2048).optional(),
    tlp: TLP.optional(),
  })
  .describe('Exactly one of casebook_id or investigation_id')

export const NewRelationshipSchema = z
  .strictObject({
    ...baseFields,
    type: z.literal('relationship').optional(),
    relationship_type: z.string().min(1).max(1024),
    source_ref: z.string().min(1).max(2048),
    target_ref: z.string().min(1).max(2048),
  })
  .describe('A new relationship')

const DISPOSITION_NAMES = ['Clean', 'Malicious', 'Suspicious', 'Common', 'Unknown'] as const

const judgementObject = z.strictObject({
  ...baseFields,
  type: z.literal('judgement').optional(),
  observable: ObservableSchema,
  disposition: z.number().int().min(1).max(5).optional(),
  disposition_name: z.enum(DISPOSITION_NAMES).optional(),
  priority: z.number().int().min(0).max(100),
  confidence: CONFIDENCE,
  severity: SEVERITY,
  source: z.string().min(1).max(2048),
  reason: z.string().max(1024).optional(),
  reason_uri: z.string().max(2048).optional(),
  valid_time: z.strictObject({ start_time: time.optional(), end_time: time.optional() }).optional(),
})

/**
 * A new judgement: observable, source, priority, severity and confidence required (CTIA
 * NewJudgement); a missing disposition half is derived from the other, a mismatch is an error.
 */
export const NewJudgementSchema = judgementObject.transform((j, ctx) => {
  const fromName = j.disposition_name ? DISPOSITION_NAMES.indexOf(j.disposition_name) + 1 : null
  if (j.disposition !== undefined && fromName !== null && fromName !== j.disposition) {
    ctx.addIssue({
      code: 'custom',
      path: ['disposition_name'],
      message: `does not match disposition ${j.disposition}`,
    })
    return z.NEVER
  }
  const disposition = j.disposition ?? fromName ?? 5
  return { ...j, disposition, disposition_name: DISPOSITION_NAMES[disposition - 1]! }
})

/** The CTIA 400 body: `{"error":"Spec Validation Client Error","type":"Invalid Entity Error","message"}`. */
export function ctiaValidationBody(error: z.ZodError): {
  error: 'Spec Validation Client Error'
  type: 'Invalid Entity Error'
  message: string
} {
  const message = error.issues
    .map((issue) => {
      const where = `[${issue.path.map((p) => (typeof p === 'number' ? String(p) : `:${String(p)}`)).join(' ')}]`
      return issue.code === 'unrecognized_keys'
        ? `In: ${where} fails spec: disallowed keys ${issue.keys.join(', ')}`
        : `In: ${where} fails spec: ${issue.message}`
    })
    .join('\n')
  return { error: 'Spec Validation Client Error', type: 'Invalid Entity Error', message }
}
