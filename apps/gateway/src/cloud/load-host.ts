import { loadConfig } from '@postern/core'
import { gatewayConfigSchema, type GatewayConfig } from '../config.js'
import { openCloudContext, type CloudContext, type CloudHost } from './context.js'
import { gatewayFeatures } from './features.js'

/** What cloud services need of the gateway's configuration. */
export function cloudHostOf(config: GatewayConfig): CloudHost {
  return {
    dataDir: config.dataDir,
    database: config.database,
    secretKeyFile: config.cloud.secretKeyFile,
    cloud: config.cloud,
  }
}

/**
 * Reads the gateway's configuration file for the cloud commands, validated by the same schema
 * the running gateway uses, so the CLI and the process always agree on the database, the data
 * directory and the `cloud:` section.
 */
export function loadCloudHost(file: string | undefined): CloudHost {
  return cloudHostOf(loadConfig({ schema: gatewayConfigSchema, file, env: process.env }))
}

/**
 * Opens the cloud context for `postern gateway cloudserviceconfig` and `cluster`: the same
 * database, settings and feature list (so `csn show` prints what the running gateway sends).
 */
export async function openGatewayCloud(file: string | undefined): Promise<CloudContext> {
  const config = loadConfig({ schema: gatewayConfigSchema, file, env: process.env })
  return openCloudContext({ host: cloudHostOf(config), features: () => gatewayFeatures(config) })
}
