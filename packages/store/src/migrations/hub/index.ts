import type { DialectMigration } from '../../migrate.js'
import { auditLogMigration } from '../shared/audit-log.js'
import { hubCoreMigration } from './0100-hub-core.js'
import {
  activeCasesMigration,
  autoIncidentPolicyMigration,
  ctiaEntitiesMigration,
  incidentStatusHistoryMigration,
  watchlistMigration,
} from './0300-ctia-entities.js'
import { hubModulesMigration } from './0500_modules.js'
import { hubActionRequestsMigration } from './0501_action_requests.js'
import { hubTicketsMigration } from './0600_tickets.js'
import { hubLoginFailuresMigration } from './0900_login_failures.js'
import { hubBlockPushPoliciesMigration } from './1000_block_push_policies.js'
import { hubUserPreferencesMigration } from './1020_user_preferences.js'
import { hubOrgVersionsMigration } from './1100_org_versions.js'

/** Hub schema, in order (same rules as the gateway's). */
export const hubMigrations: Record<string, DialectMigration> = {
  '0001_audit_log': auditLogMigration,
  '0100_hub_core': hubCoreMigration,
  '0300_ctia_entities': ctiaEntitiesMigration,
  '0301_incident_status_history': incidentStatusHistoryMigration,
  '0302_active_cases': activeCasesMigration,
  '0303_watchlist': watchlistMigration,
  '0304_auto_incident_policies': autoIncidentPolicyMigration,
  '0500_modules': hubModulesMigration,
  '0501_action_requests': hubActionRequestsMigration,
  '0600_tickets': hubTicketsMigration,
  '0900_login_failures': hubLoginFailuresMigration,
  '1000_block_push_policies': hubBlockPushPoliciesMigration,
  '1020_user_preferences': hubUserPreferencesMigration,
  '1100_org_versions': hubOrgVersionsMigration,
}
