import { HubOutboxStore } from '@postern/store'
import { INTEL_MODULE_PATHS } from '@postern/tunnel'
import type { BlocklistService } from '../blocklists/blocklist-service.js'
import type { CloudContext } from '../cloud/context.js'
import type { Gateway, GatewayExtension } from '../gateway.js'
import type { RetroListener } from '../remediation/retro.js'
import { HubIntel } from './hub-intel.js'
import { registerOutboxMetrics } from './metrics.js'

export interface HubIntelExtension extends GatewayExtension {
  /** The content pipeline's block lists (its `onReady`). */
  useBlocklists(blocklists: BlocklistService): void
  /** The cloud context (the cloud extension's `onContext`). */
  useCloud(context: CloudContext): void
  /** Set by `setup` when cloud services are part of this gateway. */
  intel: HubIntel | undefined
  /**
   * For the remediation extension's `onRetroRemediated`: reports each retro-remediation run
   * to the hub (nothing without cloud services).
   */
  retroRemediated: RetroListener
}

/**
 * Private intelligence with the hub, plugged in after the content pipeline and the cloud
 * extension: wraps the message processor to report detections and watched observables, reports
 * the retro-remediation runs it is told of (`retroRemediated`), and serves the hub's block and
 * watchlist pushes on the tunnel's module registry.
 */
export function hubIntelExtension(): HubIntelExtension {
  let blocklists: BlocklistService | undefined
  let cloud: CloudContext | undefined
  const extension: HubIntelExtension = {
    name: 'hub-intel',
    intel: undefined,
    retroRemediated: async (run) => {
      await extension.intel?.onRetroRemediated(run)
    },
    useBlocklists: (b) => {
      blocklists = b
    },
    useCloud: (c) => {
      cloud = c
    },
    setup(gateway: Gateway) {
      const context = cloud
      if (!context) return
      const outbox = new HubOutboxStore(gateway.database.db)
      const intel = new HubIntel({
        outbox,
        machine: context.cloud.machine,
        blocklists,
        flush: () => void context.connector().flushOutbox(),
        withHub: () => context.connector().withHub,
        clock: gateway.clock,
        logger: gateway.logger.child({ component: 'hub-intel' }),
      })
      context.modules.register(INTEL_MODULE_PATHS.blocks, (body) => intel.changeBlocks(body))
      context.modules.register(INTEL_MODULE_PATHS.watchlist, (body) => intel.setWatchlist(body))
      gateway.setMessageProcessor(intel.reporting(gateway.messageProcessor))
      registerOutboxMetrics(gateway.metrics.registry, outbox, context.cloud.machine)
      extension.intel = intel
    },
  }
  return extension
}
