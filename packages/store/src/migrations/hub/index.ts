import type { DialectMigration } from '../../migrate.js'
import { auditLogMigration } from '../shared/audit-log.js'

/** Hub schema, in order (same rules as the gateway's). */
export const hubMigrations: Record<string, DialectMigration> = {
  '0001_audit_log': auditLogMigration,
}
