import { describeError } from '@postern/core'
import { HubOutboxStore } from '@postern/store'
import { INTEL_MODULE_PATHS } from '@postern/tunnel'
import type { BlocklistService } from '../blocklists/blocklist-service.js'
import type { CloudContext } from '../cloud/context.js'
import type { Gateway, GatewayExtension } from '../gateway.js'
import type { RetroListener } from '../remediation/retro.js'
import type { HubIntelState } from '../smtp-processes/protocol.js'
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
 * watchlist pushes on the tunnel's module registry. In the primary of several SMTP processes it
 * also shares with them what they need to report the mail they handle (`HubIntelState`) and
 * sends what they queued (smtpProcessIntelExtension).
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
      const processes = gateway.role.kind === 'primary' ? gateway.role.processes : undefined
      const connector = context.connector()
      const share = () =>
        processes?.shareHubIntel({
          withHub: connector.withHub,
          machine: context.cloud.machine,
          watched: [...intel.watchlist],
        })
      context.modules.register(INTEL_MODULE_PATHS.blocks, (body) => intel.changeBlocks(body))
      context.modules.register(INTEL_MODULE_PATHS.watchlist, async (body) => {
        const result = await intel.setWatchlist(body)
        share()
        return result
      })
      if (processes) {
        share()
        connector.onWithHubChange(share)
        processes.onHubEventsQueued(() => void connector.flushOutbox())
      }
      gateway.setMessageProcessor(intel.reporting(gateway.messageProcessor))
      registerOutboxMetrics(gateway.metrics.registry, outbox, context.cloud.machine)
      extension.intel = intel
    },
  }
  return extension
}

/**
 * Private intelligence in an SMTP process of several: reports the mail this process handles
 * into the shared outbox, as the primary's hub connection says (`share`, sent by the primary at
 * start and on each change: whether there is a hub, the machine, the watched observables), and
 * tells the primary (`queued`) so its connector sends the events at once.
 */
export function smtpProcessIntelExtension(options: {
  /** Called once: the function to hand each `HubIntelState` the primary sends. */
  onShare(share: (state: HubIntelState) => void): void
  queued(): void
}): GatewayExtension {
  return {
    name: 'hub-intel',
    setup(gateway: Gateway) {
      let state: HubIntelState = { withHub: false, machine: '', watched: [] }
      const logger = gateway.logger.child({ component: 'hub-intel' })
      const intel = new HubIntel({
        outbox: new HubOutboxStore(gateway.database.db),
        // Read at each enqueue: the machine name comes with the primary's state.
        get machine() {
          return state.machine
        },
        blocklists: undefined,
        flush: options.queued,
        withHub: () => state.withHub,
        clock: gateway.clock,
        logger,
      })
      options.onShare((next) => {
        state = next
        intel
          .setWatchlist({ observables: next.watched })
          .catch((err: unknown) =>
            logger.error(
              { event: 'HUB_WATCHLIST_REFUSED', err: describeError(err) },
              'watched observables from the primary refused',
            ),
          )
      })
      gateway.setMessageProcessor(intel.reporting(gateway.messageProcessor))
    },
  }
}
