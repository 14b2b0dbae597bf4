export * from './database.js'
export { storeErrors } from './store-errors.js'
export { migrateToLatest, withAutoId, type SchemaArea, type DialectMigration } from './migrate.js'
export * from './shared/audit-log.js'
export type { GatewaySchema } from './gateway/schema.js'
export type { HubSchema } from './hub/schema.js'
export * from './gateway/tracking.js'
export * from './gateway/api-accounts.js'
export type * from './gateway/schema.js'
export type * from './gateway/cloud-schema.js'
export {
  CloudRepo,
  type CloudRegistration,
  type CloudStatusRow,
  type SettingLevel,
  type SettingRow,
} from './gateway/cloud-repo.js'
export * from './hub/index.js'
export * from './gateway/remediation-tables.js'
export * from './gateway/remediation-profiles.js'
export * from './gateway/remediation-runs.js'
export * from './gateway/tracking-search.js'
export * from './gateway/tracking-reports.js'
