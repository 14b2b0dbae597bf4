import type { AuditLogTable } from '../shared/audit-log.js'
import type { RemediationTables } from './remediation-tables.js'

/** Tables of the gateway's database (see migrations/gateway). */
export interface GatewaySchema extends RemediationTables {
  audit_log: AuditLogTable
}
