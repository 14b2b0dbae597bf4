import type { DialectMigration } from '../../migrate.js'
import { auditLogMigration } from '../shared/audit-log.js'
import { remediationMigration } from './0300-remediation.js'

/**
 * Gateway schema, in order. Names sort lexically: keep the `NNNN_` prefix and never rename or
 * edit an applied migration; add a new one.
 */
export const gatewayMigrations: Record<string, DialectMigration> = {
  '0001_audit_log': auditLogMigration,
  '0300_remediation': remediationMigration,
}
