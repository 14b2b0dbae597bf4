import type { Generated } from 'kysely'

/** Row of `ctia_entities` (see migrations/hub/0300-ctia-entities.ts). */
export interface CtiaEntitiesTable {
  id: string
  org_id: string
  entity_type: string
  owner: string
  client_id: string | null
  groups: string
  title: string | null
  short_description: string | null
  description: string | null
  source: string | null
  tlp: string | null
  timestamp: number | null
  status: string | null
  severity: string | null
  confidence: string | null
  priority: number | null
  disposition: number | null
  observable_type: string | null
  observable_value: string | null
  valid_from: number | null
  valid_until: number | null
  relationship_type: string | null
  source_ref: string | null
  target_ref: string | null
  created: number
  modified: number
  doc: string
}

export interface CtiaExternalIdsTable {
  entity_id: string
  org_id: string
  entity_type: string
  external_id: string
}

export interface CtiaObservablesTable {
  entity_id: string
  org_id: string
  entity_type: string
  type: string
  value: string
}

export interface IncidentStatusHistoryTable {
  id: Generated<number>
  org_id: string
  incident_id: string
  status: string
  previous_status: string | null
  at: number
  actor: string
}

export interface IncidentCampaignsTable {
  org_id: string
  detection: string
  key_type: string
  key_value: string
  incident_id: string
  first_seen: number
  last_seen: number
  events: number
}

export interface ActiveCasesTable {
  org_id: string
  user_id: string
  casebook_id: string
  set_at: number
}

export interface WatchesTable {
  id: string
  org_id: string
  observable_type: string
  observable_value: string
  note: string | null
  created_by: string
  notify_console: number
  notify_webhook: string | null
  notify_email: string | null
  incident_mode: string
  incident_id: string | null
  active: number
  sighting_count: number
  last_sighting_at: number | null
  created: number
  modified: number
}

export interface WatchSightingsTable {
  id: Generated<number>
  org_id: string
  watch_id: string
  observed_at: number
  recorded_at: number
  device_id: string
  message_ref: string
  message_id: string | null
  details: string
}

export interface AutoIncidentPoliciesTable {
  org_id: string
  detections: string
  window_ms: number
  updated_at: number
  updated_by: string
}

/** The tables this area (casebooks, incidents, judgements, watchlist) adds to the hub schema. */
export interface CtiaSchema {
  ctia_entities: CtiaEntitiesTable
  ctia_external_ids: CtiaExternalIdsTable
  ctia_observables: CtiaObservablesTable
  incident_status_history: IncidentStatusHistoryTable
  incident_campaigns: IncidentCampaignsTable
  active_cases: ActiveCasesTable
  watches: WatchesTable
  watch_sightings: WatchSightingsTable
  auto_incident_policies: AutoIncidentPoliciesTable
}
