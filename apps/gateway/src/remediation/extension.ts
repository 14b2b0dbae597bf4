import { join } from 'node:path'
import { SecretBox } from '@postern/core'
import {
  RetroCursorRepository,
  TrackingReportRepository,
  TrackingSearchRepository,
} from '@postern/store'
import type { Gateway, GatewayExtension } from '../gateway.js'
import { registerReportingRoutes } from '../reporting/routes.js'
import { ReportingService } from '../reporting/service.js'
import { registerSearchRoutes } from '../search/routes.js'
import { TrackingSearchService } from '../search/service.js'
import { createRemediationModule, type RemediationModule } from './index.js'
import { RetroRemediation, type RetroListener } from './retro.js'
import { RetroWatcher } from './retro-watcher.js'
import { registerRemediationRoutes } from './routes.js'
import { TrackedRemediation } from './tracked.js'

/** The installation key that seals remediation credentials, beside the database. */
export const SECRET_KEY_FILE = 'secret.key'

/** What the extension exposes once the gateway is assembled (for other areas to call). */
export interface RemediationParts {
  module: RemediationModule
  tracked: TrackedRemediation
  retro: RetroRemediation
  search: TrackingSearchService
  reporting: ReportingService
}

export interface RemediationExtension extends GatewayExtension {
  /** Set by `setup`; the content pipeline's block lists call `parts.retro.onBlocked`. */
  parts: RemediationParts | undefined
  /**
   * Tells `listener` of every retro-remediation run (another extension, such as hub intel,
   * reports them on); may be called before the gateway is assembled.
   */
  onRetroRemediated(listener: RetroListener): void
}

/**
 * Message tracking search, reporting and mailbox remediation, plugged into the gateway: the
 * services over its database, the `REMEDIATION` tracking events through its tracking writer,
 * and the API routes on its HTTP app.
 */
export function remediationExtension(): RemediationExtension {
  const retroListeners: RetroListener[] = []
  const extension: RemediationExtension = {
    name: 'remediation',
    parts: undefined,
    onRetroRemediated(listener) {
      retroListeners.push(listener)
      extension.parts?.retro.onRemediated(listener)
    },
    setup(gateway: Gateway) {
      const box = SecretBox.fromKeyFile(join(gateway.config.dataDir, SECRET_KEY_FILE))
      const module = createRemediationModule({
        database: gateway.database,
        config: gateway.config.remediation,
        box,
        logger: gateway.logger,
        clock: gateway.clock,
        recordTrackingEvent: async (event) => {
          gateway.tracking.writer.event({
            at: event.at,
            mid: event.mid,
            event: 'REMEDIATION',
            details: {
              runId: event.runId,
              action: event.action,
              attempt: event.attempt,
              trigger: event.trigger,
              actor: event.actor,
              source: event.source,
              results: event.results,
            },
          })
        },
      })
      const trackingSearch = new TrackingSearchRepository(
        gateway.database.db,
        gateway.database.dialect,
      )
      const tracked = new TrackedRemediation(trackingSearch, module.service)
      const retro = new RetroRemediation(
        gateway.config.remediation,
        trackingSearch,
        module.service,
        gateway.logger.child({ component: 'retro-remediation' }),
        gateway.clock,
      )
      for (const listener of retroListeners) retro.onRemediated(listener)
      const search = new TrackingSearchService(trackingSearch, module.service)
      const reporting = new ReportingService(
        new TrackingReportRepository(gateway.database.db, gateway.database.dialect),
      )
      registerRemediationRoutes(gateway.http, {
        profiles: module.profiles,
        service: module.service,
        tracked,
      })
      registerSearchRoutes(gateway.http, search)
      registerReportingRoutes(gateway.http, reporting)
      const retroConfig = gateway.config.remediation.retro
      const watcher = retroConfig.enabled
        ? new RetroWatcher(
            retro,
            new RetroCursorRepository(gateway.database.db, gateway.clock),
            retroConfig.pollIntervalMs,
            gateway.logger.child({ component: 'retro-remediation' }),
          )
        : null
      watcher?.start()
      gateway.onStop(async () => {
        await watcher?.stop()
        await module.close()
      })
      extension.parts = { module, tracked, retro, search, reporting }
    },
  }
  return extension
}
