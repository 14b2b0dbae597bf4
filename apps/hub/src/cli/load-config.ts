import { loadConfig } from '@postern/core'
import { hubConfigSchema, type HubConfig } from '../config.js'

/** The hub's configuration from `--config FILE` (optional) and POSTERN_* variables. */
export function loadHubConfig(file: string | undefined): HubConfig {
  return loadConfig({ schema: hubConfigSchema, file, env: process.env })
}
