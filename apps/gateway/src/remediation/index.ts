import { readFileSync } from 'node:fs'
import { systemClock, type Clock, type Logger, type SecretBox } from '@postern/core'
import type { Kysely } from 'kysely'
import {
  AuditLog,
  type AuditLogTable,
  RemediationProfileRepository,
  RemediationRunRepository,
  type Database,
  type GatewaySchema,
} from '@postern/store'
import type { RemediationConfig } from './config.js'
import { Forwarder } from './forwarder.js'
import { RemediationProfiles } from './profiles.js'
import { RemediationService, type RemediationTrackingEvent } from './service.js'

export * from './config.js'
export * from './context.js'
export * from './forwarder.js'
export * from './mailbox-address.js'
export * from './profile-kinds.js'
export * from './profiles.js'
export * from './service.js'

export interface RemediationModule {
  profiles: RemediationProfiles
  service: RemediationService
  close(): Promise<void>
}

export interface RemediationModuleOptions {
  database: Database<GatewaySchema>
  config: RemediationConfig
  /** The installation's SecretBox (seals profile credentials). */
  box: SecretBox
  logger: Logger
  clock?: Clock
  recordTrackingEvent?: (event: RemediationTrackingEvent) => Promise<void>
}

/** Builds profiles, forwarder and run engine over the gateway database. */
export function createRemediationModule(options: RemediationModuleOptions): RemediationModule {
  const clock = options.clock ?? systemClock
  const logger = options.logger.child({ component: 'remediation' })
  // AuditLog is typed for the audit table alone; Kysely's schema type is invariant, so the
  // gateway database is narrowed to the table it uses.
  const audit = new AuditLog(
    options.database.db as unknown as Kysely<{ audit_log: AuditLogTable }>,
    clock,
  )
  const profiles = new RemediationProfiles(
    new RemediationProfileRepository(options.database.db, clock),
    options.box,
    audit,
    logger,
  )
  const relay = options.config.relay
  const forwarder = relay
    ? new Forwarder(
        options.config.forward,
        relay,
        relay.passwordFile ? readFileSync(relay.passwordFile, 'utf8').trim() : undefined,
      )
    : null
  const service = new RemediationService({
    config: options.config,
    profiles,
    runs: new RemediationRunRepository(options.database.db, clock),
    audit,
    forwarder,
    logger,
    clock,
    recordTrackingEvent: options.recordTrackingEvent,
  })
  return {
    profiles,
    service,
    async close() {
      await service.drain()
      forwarder?.close()
      await profiles.close()
    },
  }
}
