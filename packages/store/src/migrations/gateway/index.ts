import type { DialectMigration } from '../../migrate.js'
import { auditLogMigration } from '../shared/audit-log.js'
import { gatewayCloudMigration } from './0400-cloud.js'

/**
 * Gateway schema, in order. Names sort lexically: keep the `NNNN_` prefix and never rename or
 * edit an applied migration; add a new one.
 */
export const gatewayMigrations: Record<string, DialectMigration> = {
  '0001_audit_log': auditLogMigration,
  '0400_cloud': gatewayCloudMigration,
}
