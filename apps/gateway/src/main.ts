import { createLogger, describeError, formatHostPort } from '@postern/core'
import { loadGatewayConfig } from './config.js'
import { Gateway, type GatewayExtension } from './gateway.js'
import { cloudExtension } from './cloud/extension.js'
import { hubIntelExtension } from './intel/extension.js'
import { consoleExtension } from './console/extension.js'
import { contentPipelineExtension } from './pipeline/extension.js'
import type { ContentPipelineSetup } from './pipeline/setup.js'
import { relayModuleExtension } from './relay-module/extension.js'
import { serveRelayModuleOverTunnel } from './relay-module/tunnel.js'
import { remediationExtension } from './remediation/extension.js'

/**
 * The extensions every running gateway gets. Other areas (content pipeline, remediation,
 * cloud connector) add theirs here.
 */
export function defaultExtensions(): GatewayExtension[] {
  const remediation = remediationExtension()
  let content: ContentPipelineSetup | undefined
  const relayModule = relayModuleExtension(remediation, () => content)
  const intel = hubIntelExtension()
  // Retro-remediation knows nothing of the hub: it tells whoever listens.
  remediation.onRetroRemediated(intel.retroRemediated)
  return [
    contentPipelineExtension((setup) => {
      content = setup
      intel.useBlocklists(setup.blocklists)
    }),
    remediation,
    consoleExtension(),
    relayModule,
    // The hub reaches this gateway's relay module through the tunnel the connector keeps open;
    // the connector refuses those calls while Threat Response is switched off.
    cloudExtension({
      onContext: (context, gateway) => {
        if (relayModule.module) {
          serveRelayModuleOverTunnel(context.modules, relayModule.module, gateway.logger)
        }
        intel.useCloud(context)
      },
    }),
    // After the pipeline (it wraps its processor) and the cloud context (it sends through it).
    intel,
  ]
}

export interface RunOptions {
  configFile: string | undefined
  env: Record<string, string | undefined>
  /** Where the one-line "ready" summary goes (the JSON log goes to stdout). */
  stderr?: NodeJS.WritableStream
  extensions?: readonly GatewayExtension[]
}

/**
 * `postern gateway --config FILE`: loads and validates the configuration, starts the gateway,
 * prints where it listens, and stops it cleanly on SIGTERM or SIGINT. Resolves once stopped.
 */
export async function runGateway(options: RunOptions): Promise<void> {
  const config = loadGatewayConfig(options.configFile, options.env)
  const logger = createLogger({ level: config.log.level, name: 'postern-gateway' })
  const gateway = await Gateway.create(config, {
    logger,
    extensions: options.extensions ?? defaultExtensions(),
  })
  const stderr = options.stderr ?? process.stderr
  let stopping = false
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ event: 'GATEWAY_FORCED_EXIT', signal }, 'second signal: exiting at once')
        process.exit(1)
      }
      stopping = true
      logger.info({ event: 'GATEWAY_SIGNAL', signal }, 'stopping on signal')
      gateway.stop().then(resolve, (err: unknown) => {
        logger.error({ event: 'GATEWAY_STOP_FAILED', err: describeError(err) }, 'stop failed')
        resolve()
      })
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  })
  try {
    const addresses = await gateway.start()
    const smtp = Object.entries(addresses.smtp)
      .map(([name, address]) => `smtp ${name}=${formatHostPort(address)}`)
      .join(', ')
    stderr.write(
      `postern gateway ready: ${smtp}${smtp ? ', ' : ''}http=${formatHostPort(addresses.http)}\n`,
    )
  } catch (err) {
    await gateway.stop().catch(() => undefined)
    throw err
  }
  await stopped
}
