import { join } from 'node:path'
import { SecretBox, silentLogger, systemClock, type Clock, type Logger } from '@postern/core'
import {
  AuditLog,
  CloudRepo,
  Database,
  migrateToLatest,
  resolveDatabaseTarget,
  type GatewaySchema,
} from '@postern/store'
import { CloudService } from './cloud-service.js'
import type { CloudConfig } from './config.js'
import { CloudConnector } from './connector.js'
import { loadMachineIdentity } from './machine.js'
import { ModuleRegistry } from './modules.js'
import type { FeatureState } from './telemetry.js'

/** Gateway version reported to the hub and in telemetry. */
export const GATEWAY_VERSION = '0.1.0'
export const GATEWAY_MODEL = 'postern-gateway'

export interface CloudHost {
  /** The gateway's data directory (machine identity, secret key). */
  dataDir: string
  /** The gateway's `database` setting (sqlite, sqlite:/path, postgres://…). */
  database: string
  /** Key file sealing the device credential (default dataDir/secret.key). */
  secretKeyFile?: string
  cloud: CloudConfig
}

export interface CloudContext {
  cloud: CloudService
  repo: CloudRepo
  audit: AuditLog
  modules: ModuleRegistry
  database: Database<GatewaySchema>
  /** The running connector (create once per gateway process). */
  connector(): CloudConnector
  close(): Promise<void>
}

/**
 * Opens the cloud-services part of a gateway over its own database (or an already open one):
 * what the gateway process, its API and `postern gateway cloudserviceconfig` all use.
 */
export async function openCloudContext(options: {
  host: CloudHost
  logger?: Logger
  clock?: Clock
  database?: Database<GatewaySchema>
  features?: () => FeatureState[]
  version?: string
}): Promise<CloudContext> {
  const logger = options.logger ?? silentLogger()
  const clock = options.clock ?? systemClock
  const owned = options.database === undefined
  const database =
    options.database ??
    (await Database.open<GatewaySchema>(
      resolveDatabaseTarget(options.host.database, options.host.dataDir, 'gateway.db'),
      { logger },
    ))
  try {
    if (owned) await migrateToLatest(database, 'gateway', logger)
    const repo = new CloudRepo(database.db)
    const audit = new AuditLog(database.db, clock)
    const version = options.version ?? GATEWAY_VERSION
    const modules = new ModuleRegistry(version)
    const cloud = new CloudService({
      repo,
      audit,
      box: SecretBox.fromKeyFile(
        options.host.secretKeyFile ?? join(options.host.dataDir, 'secret.key'),
      ),
      clock,
      logger,
      config: options.host.cloud,
      identity: loadMachineIdentity(options.host.dataDir, clock.now()),
      version,
      model: GATEWAY_MODEL,
      features: options.features,
    })
    let connector: CloudConnector | undefined
    return {
      cloud,
      repo,
      audit,
      modules,
      database,
      connector() {
        connector ??= new CloudConnector({
          cloud,
          repo,
          db: database.db,
          config: options.host.cloud,
          modules,
          audit,
          logger,
        })
        return connector
      },
      async close() {
        await connector?.stop()
        if (owned) await database.close()
      },
    }
  } catch (err) {
    if (owned) await database.close()
    throw err
  }
}
