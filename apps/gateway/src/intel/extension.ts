import { HubOutboxStore } from '@postern/store'
import { INTEL_MODULE_PATHS } from '@postern/tunnel'
import type { BlocklistService } from '../blocklists/blocklist-service.js'
import type { CloudContext } from '../cloud/context.js'
import type { Gateway, GatewayExtension } from '../gateway.js'
import { HubIntel } from './hub-intel.js'

export interface HubIntelExtension extends GatewayExtension {
  /** The content pipeline's block lists (its `onReady`). */
  useBlocklists(blocklists: BlocklistService): void
  /** The cloud context (the cloud extension's `onContext`). */
  useCloud(context: CloudContext): void
  /** Set by `setup` when cloud services are part of this gateway. */
  intel: HubIntel | undefined
}

/**
 * Private intelligence with the hub, plugged in after the content pipeline and the cloud
 * extension: wraps the message processor to report detections and watched observables, and
 * serves the hub's block and watchlist pushes on the tunnel's module registry.
 */
export function hubIntelExtension(): HubIntelExtension {
  let blocklists: BlocklistService | undefined
  let cloud: CloudContext | undefined
  const extension: HubIntelExtension = {
    name: 'hub-intel',
    intel: undefined,
    useBlocklists: (b) => {
      blocklists = b
    },
    useCloud: (c) => {
      cloud = c
    },
    setup(gateway: Gateway) {
      const context = cloud
      if (!context) return
      const intel = new HubIntel({
        outbox: new HubOutboxStore(gateway.database.db),
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
      extension.intel = intel
    },
  }
  return extension
}
