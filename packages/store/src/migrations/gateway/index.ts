import type { DialectMigration } from '../../migrate.js'
import { auditLogMigration } from '../shared/audit-log.js'
import { trackingMigration } from './0100_tracking.js'
import { apiAuthMigration } from './0101_api_auth.js'
import { contentPipelineMigration } from './0200_content_pipeline.js'
import { remediationMigration } from './0300_remediation.js'
import { trackingSearchMigration } from './0301_tracking_search.js'
import { contentSearchMigration } from './0302_content_search.js'
import { retroCursorMigration } from './0303_retro_cursor.js'
import { gatewayCloudMigration } from './0400-cloud.js'
import { hubOutboxMigration } from './0700_hub_outbox.js'
import { ribbonCredentialsMigration } from './0800_ribbon_credentials.js'
import { hubOutboxLossesMigration } from './1000_hub_outbox_losses.js'
import { mailPoliciesMigration } from './1010_mail_policies.js'
import { trackingPartitionsMigration } from './1100_tracking_partitions.js'
import { trackingNewestFirstMigration } from './1200_tracking_newest_first.js'
import { contentReceivedAtMigration } from './1300_content_received_at.js'

/**
 * Gateway schema, in order. Names sort lexically: keep the `NNNN_` prefix and never rename or
 * edit an applied migration; add a new one.
 */
export const gatewayMigrations: Record<string, DialectMigration> = {
  '0001_audit_log': auditLogMigration,
  '0100_tracking': trackingMigration,
  '0101_api_auth': apiAuthMigration,
  '0200_content_pipeline': contentPipelineMigration,
  '0300_remediation': remediationMigration,
  '0301_tracking_search': trackingSearchMigration,
  '0302_content_search': contentSearchMigration,
  '0303_retro_cursor': retroCursorMigration,
  '0400_cloud': gatewayCloudMigration,
  '0700_hub_outbox': hubOutboxMigration,
  '0800_ribbon_credentials': ribbonCredentialsMigration,
  '1000_hub_outbox_losses': hubOutboxLossesMigration,
  '1010_mail_policies': mailPoliciesMigration,
  '1100_tracking_partitions': trackingPartitionsMigration,
  '1200_tracking_newest_first': trackingNewestFirstMigration,
  '1300_content_received_at': contentReceivedAtMigration,
}
