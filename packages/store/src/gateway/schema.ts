import type { AuditLogTable } from '../shared/audit-log.js'

/** Tables of the gateway's database (see migrations/gateway). */
export interface GatewaySchema {
  audit_log: AuditLogTable
}
