import type { DialectMigration } from '../../migrate.js'
import { auditLogMigration } from '../shared/audit-log.js'
import { trackingMigration } from './0100_tracking.js'
import { apiAuthMigration } from './0101_api_auth.js'
import { remediationMigration } from './0300_remediation.js'
import { trackingSearchMigration } from './0301_tracking_search.js'
import { gatewayCloudMigration } from './0400-cloud.js'

/**
 * Gateway schema, in order. Names sort lexically: keep the `NNNN_` prefix and never rename or
 * edit an applied migration; add a new one.
 */
export const gatewayMigrations: Record<string, DialectMigration> = {
  '0001_audit_log': auditLogMigration,
  '0100_tracking': trackingMigration,
  '0101_api_auth': apiAuthMigration,
  '0300_remediation': remediationMigration,
  '0301_tracking_search': trackingSearchMigration,
  '0400_cloud': gatewayCloudMigration,
}
