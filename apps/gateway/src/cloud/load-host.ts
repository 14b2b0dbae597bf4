import { loadConfig } from '@postern/core'
import { z } from 'zod'
import { cloudConfigSchema } from './config.js'
import type { CloudHost } from './context.js'

/**
 * Reads what the cloud commands need from the gateway's configuration file: dataDir, database,
 * secretKeyFile and the `cloud:` section. The rest of the file belongs to the gateway's own
 * schema, which validates it when the gateway starts; here it is passed over.
 */
const cloudHostSchema = z
  .object({
    dataDir: z.string().default('/var/lib/postern/gateway'),
    database: z.string().default('sqlite'),
    secretKeyFile: z.string().optional(),
    cloud: cloudConfigSchema.prefault({}),
  })
  .loose()

export function loadCloudHost(file: string | undefined): CloudHost {
  const config = loadConfig({ schema: cloudHostSchema, file, env: process.env })
  return {
    dataDir: config.dataDir,
    database: config.database,
    secretKeyFile: config.secretKeyFile,
    cloud: config.cloud,
  }
}
