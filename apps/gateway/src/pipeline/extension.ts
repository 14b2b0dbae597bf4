import { BlocklistSessionPolicy } from '../blocklists/smtp-policy.js'
import type { Gateway, GatewayExtension } from '../gateway.js'
import { registerContentRoutes } from './api-routes.js'
import { ContentProcessor } from './content-processor.js'
import { startContentPipeline, type ContentPipelineSetup } from './setup.js'

/**
 * Plugs the content pipeline into the gateway: the message processor (analysis, scanners,
 * policies), the SMTP-time block list policy, the quarantine, block list and analysis routes
 * of the API, quarantine releases and notifications through the delivery queue, and a stop
 * hook. With `pipeline.enabled: false` the gateway keeps its pass-through processor.
 * `background: false` (the SMTP processes of a multi-process gateway) leaves the quarantine's
 * sweeps and resumed releases to the primary, which runs them once for the node.
 */
export function contentPipelineExtension(
  onReady?: (setup: ContentPipelineSetup) => void,
  options: { background?: boolean } = {},
): GatewayExtension {
  return {
    name: 'content-pipeline',
    async setup(gateway: Gateway) {
      const config = gateway.config.pipeline
      if (!config.enabled) return
      const acceptedDomains = gateway.config.listeners.flatMap((listener) =>
        listener.rat
          .filter(
            (rule) =>
              rule.action === 'ACCEPT' && !rule.recipient.includes('@') && rule.recipient !== '*',
          )
          .map((rule) => rule.recipient.replace(/^\./, '')),
      )
      const setup = await startContentPipeline(config, {
        db: gateway.database.db,
        hostname: gateway.config.hostname,
        acceptedDomains,
        events: gateway.tracking.writer,
        audit: gateway.audit,
        metricsRegistry: gateway.metrics.registry,
        clock: gateway.clock,
        logger: gateway.logger.child({ component: 'content' }),
        background: options.background ?? true,
        releaseQueue: {
          release: async (message) => {
            const releasedAs = await gateway.queue.submit({
              origin: 'release',
              direction: message.direction === 'outgoing' ? 'outgoing' : 'incoming',
              mailFrom: message.envelopeSender,
              recipients: message.recipients,
              body: message.content,
              relatedMid: message.mid,
              reason: message.reason,
            })
            return { releasedAs }
          },
        },
        injector: {
          inject: async (message) => {
            await gateway.queue.submit({
              origin: 'notification',
              direction: 'outgoing',
              mailFrom: message.from,
              recipients: message.to,
              body: message.raw,
              relatedMid: message.relatedMid,
              reason: message.reason,
            })
          },
        },
      })
      gateway.setMessageProcessor(new ContentProcessor(setup.pipeline))
      const role = gateway.role
      // A block the primary applies (API, hub push, relay module) holds in every SMTP process
      // at once, not at their next periodic reload.
      if (role.kind === 'primary') {
        setup.blocklists.onChange(() => role.processes.settingsChanged())
        // A block an SMTP process applied (a policy's action): the primary's lists follow at
        // once too (a reload is no change of its own: nothing is broadcast back).
        role.processes.onBlocklistsChanged(() => setup.blocklists.refreshInBackground())
      }
      if (config.blocklists.enabled && config.blocklists.refuseAtSmtp) {
        gateway.addSessionPolicy(new BlocklistSessionPolicy(setup.blocklists))
      }
      registerContentRoutes(gateway.http, {
        quarantine: setup.quarantine,
        blocklists: setup.blocklists,
        records: setup.records,
        policyEditor: setup.policyEditor,
        audit: gateway.audit,
      })
      gateway.onStop(() => setup.close())
      onReady?.(setup)
    },
  }
}
