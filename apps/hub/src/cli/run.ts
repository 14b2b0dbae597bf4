import { createLogger } from '@postern/core'
import { EXIT, reportError } from '@postern/cli-kit'
import { Hub } from '../hub.js'
import { loadHubConfig } from './load-config.js'

/** `postern hub --config FILE`: runs the hub until SIGTERM or SIGINT. */
export async function runHub(options: { config?: string }): Promise<void> {
  let hub: Hub
  try {
    const config = loadHubConfig(options.config)
    const logger = createLogger({ level: config.log.level, name: 'postern-hub' })
    hub = await Hub.start({ config, logger })
  } catch (err) {
    process.exitCode = reportError(err, { json: false })
    return
  }
  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) return
    stopping = true
    hub.services.logger.info({ event: 'HUB_STOPPING', signal }, 'stopping')
    hub
      .stop()
      .then(() => process.exit(EXIT.OK))
      .catch((err: unknown) => {
        reportError(err, { json: false })
        process.exit(EXIT.SOFTWARE)
      })
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
}
