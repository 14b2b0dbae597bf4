import type { Generated } from 'kysely'
import type { AuditLogTable } from '../shared/audit-log.js'
import type { BlockPushPoliciesSchema } from './block-push-policies.js'
import type { CtiaSchema } from './ctia-tables.js'

export interface OrgsTable {
  id: string
  name: string
  enabled: number
  created_at: number
  updated_at: number
}

export interface UsersTable {
  id: string
  org_id: string
  email: string
  name: string
  role: string
  password_hash: string
  enabled: number
  created_at: number
  updated_at: number
  last_login_at: number | null
}

export interface SessionsTable {
  id: string
  token_digest: string
  csrf_digest: string
  user_id: string
  org_id: string
  created_at: number
  last_used_at: number
  expires_at: number
  revoked_at: number | null
  remote_ip: string | null
  user_agent: string | null
}

export interface ApiClientsTable {
  id: string
  org_id: string
  name: string
  description: string
  secret_digest: string
  /** JSON array of scope strings. */
  scopes: string
  owner_user_id: string | null
  created_by_type: string
  created_by_id: string
  created_at: number
  expires_at: number | null
  revoked_at: number | null
  last_used_at: number | null
}

export interface SigningKeysTable {
  kid: string
  alg: string
  /** JSON Web Key (RFC 7517) of the public half. */
  public_jwk: string
  /** PKCS#8 PEM of the private half, sealed with the hub's SecretBox. */
  private_key_sealed: string
  created_at: number
  /** From this time the key no longer signs new tokens. */
  retires_at: number
  /** From this time the key leaves the JWKS (tokens it signed have all expired). */
  expires_at: number
}

export interface RegistrationTokensTable {
  id: string
  org_id: string
  token_digest: string
  label: string
  created_by_type: string
  created_by_id: string
  created_at: number
  expires_at: number
  used_at: number | null
  device_id: string | null
  revoked_at: number | null
}

export interface DevicesTable {
  id: string
  org_id: string
  name: string
  uid: string
  model: string
  version: string
  hostname: string
  deployment: string
  cluster_name: string | null
  region: string
  credential_digest: string
  registration_token_id: string
  registered_at: number
  deregistered_at: number | null
  last_seen_at: number | null
  connected_at: number | null
  connected_node: string | null
  threat_response_enabled: number | null
  telemetry_enabled: number | null
  remote_ip: string | null
}

export interface DeviceTelemetryTable {
  id: Generated<number>
  org_id: string
  device_id: string
  received_at: number
  /** JSON payload as the gateway sent it (validated by the hub first). */
  payload: string
}

/** Tables of the hub's database (see migrations/hub). */
export interface ModuleTypesTable {
  id: string
  org_id: string
  name: string
  title: string
  description: string
  /** JSON: `{url, supported-apis, auth-type, …}`. */
  properties: string
  /** JSON: the settings form, `[{key, type, label, required}]`. */
  configuration_spec: string
  created_by_type: string
  created_by_id: string
  created_at: number
  updated_at: number
}

export interface ModuleInstancesTable {
  id: string
  org_id: string
  module_type_id: string
  name: string
  enabled: number
  visibility: string
  /** The settings JSON, sealed with the hub's secret box. */
  settings_sealed: string
  created_by_type: string
  created_by_id: string
  created_at: number
  updated_at: number
}

export interface ActionRequestsTable {
  id: string
  org_id: string
  module_instance_id: string
  action_id: string
  observable_type: string
  observable_value: string
  /** JSON: extra query parameters of the action. */
  extras: string
  requested_by_type: string
  requested_by_id: string
  /** The user behind the request (the client's owner for an API client), who may not approve it. */
  requested_by_user: string | null
  requested_at: number
  expires_at: number
  /** pending, approved, rejected, expired. */
  status: string
  decided_by: string | null
  decided_at: number | null
  comment: string | null
  /** JSON: the trigger outcome once approved. */
  result: string | null
}

export interface TicketIntegrationsTable {
  id: string
  org_id: string
  name: string
  /** webhook or email. */
  kind: string
  enabled: number
  /** The settings JSON (URL, HMAC secret, SMTP password…), sealed with the hub's secret box. */
  settings_sealed: string
  created_by_type: string
  created_by_id: string
  created_at: number
  updated_at: number
}

export interface TicketsTable {
  id: string
  org_id: string
  integration_id: string
  /** observable, action, casebook or incident. */
  subject_type: string
  /** JSON: the observable, or `{id}` of the action request, casebook or incident. */
  subject_ref: string
  title: string
  /** The link back into the hub. */
  link: string
  /** pending, sent or failed. */
  status: string
  attempts: number
  last_error: string | null
  /** What the ticket system answered (its ticket id) or the mail's Message-ID. */
  external_ref: string | null
  created_by_type: string
  created_by_id: string
  created_at: number
  updated_at: number
}

/** One failed console login (0900), so that every hub node counts the same failures. */
export interface LoginFailuresTable {
  id: Generated<number>
  /** SHA-256 of client address and account: the table never holds an address in clear. */
  key_digest: string
  at: number
}

/** A user's console preferences (1020): one JSON document per preference name, e.g. the ribbon's state. */
export interface UserPreferencesTable {
  org_id: string
  user_id: string
  name: string
  /** JSON text, validated by the route that owns the name. */
  value: string
  updated_at: number
}

/** Change counter of what hub nodes cache of an organisation (1100). */
export interface OrgVersionsTable {
  org_id: string
  version: number
}

export interface HubSchema extends CtiaSchema, BlockPushPoliciesSchema {
  audit_log: AuditLogTable
  orgs: OrgsTable
  users: UsersTable
  sessions: SessionsTable
  api_clients: ApiClientsTable
  signing_keys: SigningKeysTable
  registration_tokens: RegistrationTokensTable
  devices: DevicesTable
  device_telemetry: DeviceTelemetryTable
  module_types: ModuleTypesTable
  module_instances: ModuleInstancesTable
  action_requests: ActionRequestsTable
  ticket_integrations: TicketIntegrationsTable
  tickets: TicketsTable
  login_failures: LoginFailuresTable
  user_preferences: UserPreferencesTable
  org_versions: OrgVersionsTable
}
