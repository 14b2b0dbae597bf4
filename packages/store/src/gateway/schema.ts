import type { AuditLogTable } from '../shared/audit-log.js'
import type { GatewayCloudSchema } from './cloud-schema.js'

/** Tables of the gateway's database (see migrations/gateway). */
export interface GatewaySchema extends GatewayCloudSchema {
  audit_log: AuditLogTable
}
