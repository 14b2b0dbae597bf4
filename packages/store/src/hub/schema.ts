import type { AuditLogTable } from '../shared/audit-log.js'
import type { CtiaSchema } from './ctia-tables.js'

/** Tables of the hub's database (see migrations/hub). */
export interface HubSchema extends CtiaSchema {
  audit_log: AuditLogTable
}
