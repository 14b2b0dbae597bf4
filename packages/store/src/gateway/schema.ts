import type { Generated } from 'kysely'
import type { AuditLogTable } from '../shared/audit-log.js'
import type { ContentSchema } from './content-schema.js'
import type { RemediationTables } from './remediation-tables.js'
import type { GatewayCloudSchema } from './cloud-schema.js'
import type { HubOutboxSchema } from './hub-outbox.js'
import type { MailPoliciesTable } from './mail-policies.js'
import type { RibbonCredentialsTable } from './ribbon-credentials.js'

/** One mail transaction (MID): envelope, header summary, client, status (migration 0100). */
export interface MessagesTable {
  mid: number
  icid: number
  received_at: number
  updated_at: number
  listener: string
  sender_group: string | null
  hat_policy: string | null
  direction: string
  sender_ip: string
  sender_rdns: string | null
  helo: string | null
  tls: string | null
  auth_user: string | null
  envelope_sender: string
  sender_domain: string | null
  message_id: string | null
  subject: string | null
  header_from: string | null
  header_to: string | null
  header_reply_to: string | null
  size: number
  recipient_count: number
  status: string
  reply: string | null
}

/** One envelope recipient of a message with its own delivery status (migration 0100). */
export interface MessageRecipientsTable {
  mid: number
  rcpt_index: number
  recipient: string
  domain: string
  status: string
  last_reply: string | null
  attempts: number
  updated_at: number
  /** The message's received time: the partition key on PostgreSQL (migration 1100). */
  received_at: number
}

/** The timeline: connection, HAT match, envelope, acceptance, delivery attempts (migration 0100). */
export interface MessageEventsTable {
  id: Generated<number>
  at: number
  mid: number | null
  icid: number | null
  dcid: number | null
  event: string
  recipient: string | null
  details: string
}

/** Observable index: (type, value) → MID (migration 0100). */
export interface ObservablesTable {
  type: string
  value_key: string
  value: string
  mid: number
  at: number
}

/** HTTP API users (migration 0101). */
export interface ApiUsersTable {
  id: Generated<number>
  username: string
  password_hash: string
  role: string
  created_at: number
  updated_at: number
  last_login_at: number | null
}

/** API tokens, login sessions and the local CLI credential, as digests (migration 0101). */
export interface ApiTokensTable {
  id: Generated<number>
  digest: string
  kind: string
  name: string
  role: string
  user_id: number | null
  created_at: number
  expires_at: number | null
  last_used_at: number | null
}

/** Tables of the gateway's database (see migrations/gateway). */
export interface GatewaySchema
  extends ContentSchema, RemediationTables, GatewayCloudSchema, HubOutboxSchema {
  audit_log: AuditLogTable
  ribbon_credentials: RibbonCredentialsTable
  mail_policies: MailPoliciesTable
  messages: MessagesTable
  message_recipients: MessageRecipientsTable
  message_events: MessageEventsTable
  observables: ObservablesTable
  api_users: ApiUsersTable
  api_tokens: ApiTokensTable
}
