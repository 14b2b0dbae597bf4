import type { AuditLogTable } from '../shared/audit-log.js'
import type { ContentSchema } from './content-schema.js'

/** Tables of the gateway's database (see migrations/gateway). */
export interface GatewaySchema extends ContentSchema {
  audit_log: AuditLogTable
}
