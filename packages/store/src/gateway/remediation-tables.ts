import type { Generated } from 'kysely'

/** Row types of the remediation tables (migration 0300_remediation). */
export interface RemediationProfilesTable {
  name: string
  kind: string
  description: string
  /** JSON array of recipient domains (`example.org`, `*.example.org`, `*`). */
  domains: string
  /** JSON object of the kind's non-secret settings. */
  settings: string
  /** JSON object field → SecretBox-sealed value; never leaves the gateway in clear. */
  secrets: string
  enabled: number
  created_at: number
  updated_at: number
  updated_by: string
}

export interface RemediationRunsTable {
  id: string
  action: string
  status: string
  trigger: string
  reason: string
  actor_type: string
  actor_id: string
  source: string
  remote_ip: string | null
  forward_to: string
  idempotency_key: string | null
  details: string
  attempts: number
  total: number
  done: number
  not_found: number
  failed: number
  created_at: number
  updated_at: number
  finished_at: number | null
}

export interface RemediationTargetsTable {
  id: Generated<number>
  run_id: string
  message_id: string
  recipient: string
  mids: string
  profile: string | null
  status: string
  forwarded: number
  deleted: number
  folders: string
  error_code: string | null
  error_message: string | null
  attempts: number
  updated_at: number
}

export interface RemediationTables {
  remediation_profiles: RemediationProfilesTable
  remediation_runs: RemediationRunsTable
  remediation_targets: RemediationTargetsTable
}
