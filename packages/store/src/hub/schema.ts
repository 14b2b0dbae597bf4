import type { AuditLogTable } from '../shared/audit-log.js'

/** Tables of the hub's database (see migrations/hub). */
export interface HubSchema {
  audit_log: AuditLogTable
}
