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
import { resolveSmtpProcesses, spoolSlots } from './smtp-processes/numbering.js'
import { SmtpProcessSupervisor } from './smtp-processes/supervisor.js'

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
 * With `smtpProcesses` > 1 this process becomes the primary: it forks the SMTP processes
 * (smtp-processes/supervisor.ts) once its own part — HTTP API, database migrations,
 * singletons — is assembled, and stops them (each drains) before itself.
 */
export async function runGateway(options: RunOptions): Promise<void> {
  const config = loadGatewayConfig(options.configFile, options.env)
  const processes = resolveSmtpProcesses(config.smtpProcesses)
  // Spools of SMTP processes beyond the count (it was lowered) are delivered by processes of
  // their own, so a primary is needed even for one SMTP process until they are empty.
  const separate = processes > 1 || spoolSlots(config.dataDir).some((slot) => slot > processes)
  const baseLogger = createLogger({ level: config.log.level, name: 'postern-gateway' })
  const logger = separate
    ? baseLogger.child({ node: config.nodeNumber, process: 'primary' })
    : baseLogger
  const supervisor = separate
    ? new SmtpProcessSupervisor(config, processes, logger.child({ component: 'smtp-processes' }))
    : undefined
  const gateway = await Gateway.create(config, {
    logger,
    extensions: options.extensions ?? defaultExtensions(),
    ...(supervisor ? { role: { kind: 'primary' as const, processes: supervisor } } : {}),
  })
  if (supervisor) {
    // A change made through the API (block lists, policies, settings) reaches every SMTP
    // process at once, not at its next periodic reload.
    gateway.http.addHook('onResponse', async (request, reply) => {
      if (request.method !== 'GET' && request.method !== 'HEAD' && reply.statusCode < 400) {
        supervisor.settingsChanged()
      }
    })
  }
  const stderr = options.stderr ?? process.stderr
  let stopping = false
  const stopAll = async () => {
    await supervisor?.stop()
    await gateway.stop()
  }
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ event: 'GATEWAY_FORCED_EXIT', signal }, 'second signal: exiting at once')
        process.exit(1)
      }
      stopping = true
      logger.info({ event: 'GATEWAY_SIGNAL', signal }, 'stopping on signal')
      stopAll().then(resolve, (err: unknown) => {
        logger.error({ event: 'GATEWAY_STOP_FAILED', err: describeError(err) }, 'stop failed')
        resolve()
      })
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  })
  try {
    const addresses = await gateway.start()
    const smtpAddresses = supervisor
      ? await supervisor.start()
      : Object.fromEntries(
          Object.entries(addresses.smtp).map(([name, a]) => [name, formatHostPort(a)]),
        )
    const smtp = Object.entries(smtpAddresses)
      .map(([name, address]) => `smtp ${name}=${address}`)
      .join(', ')
    const across = supervisor ? ` (${processes} SMTP process${processes === 1 ? '' : 'es'})` : ''
    stderr.write(
      `postern gateway ready: ${smtp}${smtp ? ', ' : ''}http=${formatHostPort(addresses.http)}${across}\n`,
    )
  } catch (err) {
    await stopAll().catch(() => undefined)
    throw err
  }
  await stopped
}
