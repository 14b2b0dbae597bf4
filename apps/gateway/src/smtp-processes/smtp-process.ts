import { rm } from 'node:fs/promises'
import { createLogger, describeError, formatHostPort, type Logger } from '@postern/core'
import type { GatewayConfig } from '../config.js'
import { Gateway, type GatewayExtension } from '../gateway.js'
import { smtpProcessIntelExtension } from '../intel/extension.js'
import { contentPipelineExtension } from '../pipeline/extension.js'
import { oncePerTurn, singleFlight } from '../coalesce.js'
import { spoolDirOf } from './numbering.js'
import {
  isPosternMessage,
  toWireError,
  type FromSmtpProcess,
  type HubIntelState,
  type ProcessOp,
  type ToSmtpProcess,
} from './protocol.js'

/**
 * One SMTP process of a gateway with `smtpProcesses` > 1 (run by worker-main.ts, forked by
 * the primary's supervisor): waits for its slot and the configuration, builds a gateway with
 * the `smtp` role (listeners, its own spool, queue and delivery thread), answers the primary's
 * calls, and stops — draining sessions and deliveries — when the primary says so, on SIGTERM
 * or SIGINT, or when the primary is gone (the IPC channel closed: no orphan keeps the port).
 */
export function runSmtpProcess(): void {
  let gateway: Gateway | undefined
  let logger: Logger | undefined
  let stopping: Promise<void> | undefined
  // A burst of `settings-changed` (many blocks at once) costs two reloads, not one each.
  let reloadSettings: (() => Promise<void>) | undefined
  // The primary sends the hub intelligence state right after `start`, before the gateway
  // exists: the latest is kept until the intel extension takes it.
  let hubIntel: HubIntelState | undefined
  let shareHubIntel: ((state: HubIntelState) => void) | undefined

  const send = (message: FromSmtpProcess) => {
    if (process.connected) process.send?.(message)
  }
  // One notice per turn of the event loop however many messages or blocks made one in it.
  const hubEventsQueued = oncePerTurn(() => send({ postern: true, type: 'hub-events-queued' }))
  const blocklistsChanged = oncePerTurn(() => send({ postern: true, type: 'blocklists-changed' }))
  const stop = (why: string): Promise<void> => {
    stopping ??= (async () => {
      logger?.info({ event: 'GATEWAY_SMTP_PROCESS_STOPPING', why }, 'SMTP process stopping')
      try {
        await gateway?.stop()
      } catch (err) {
        logger?.error({ event: 'GATEWAY_STOP_FAILED', err: describeError(err) }, 'stop failed')
      }
      process.exit(0)
    })()
    return stopping
  }

  const start = async (slot: number, drain: boolean, config: GatewayConfig) => {
    logger = createLogger({ level: config.log.level, name: 'postern-gateway' }).child({
      node: config.nodeNumber,
      process: `smtp-${slot}`,
    })
    const extensions: GatewayExtension[] = [
      // The content pipeline's processor and SMTP-time block lists run where the mail is;
      // its background tasks (quarantine sweeps and resumed releases) run in the primary.
      contentPipelineExtension(
        (setup) => {
          reloadSettings = singleFlight(async () => {
            await setup.blocklists.refresh(true)
            setup.pipeline.setPolicies(await setup.policyEditor.load())
          })
          // A block this process applies itself (a policy's block action on a message it
          // handles) must hold in its siblings at once: a compromised account would otherwise
          // keep sending through them until their periodic reload.
          setup.blocklists.onChange(blocklistsChanged)
        },
        { background: false },
      ),
      // After the pipeline: it wraps the pipeline's processor.
      smtpProcessIntelExtension({
        onShare: (share) => {
          shareHubIntel = share
          if (hubIntel) share(hubIntel)
        },
        queued: hubEventsQueued,
      }),
    ]
    gateway = await Gateway.create(config, {
      logger,
      role: { kind: 'smtp', slot, drain },
      extensions,
    })
    const addresses = await gateway.start()
    send({
      postern: true,
      type: 'ready',
      smtp: Object.fromEntries(
        Object.entries(addresses.smtp).map(([name, address]) => [name, formatHostPort(address)]),
      ),
    })
    if (drain) void retireWhenEmpty(gateway, spoolDirOf(config.dataDir, slot))
  }

  /** A draining process: once its queue is empty, its spool goes and so does the process. */
  const retireWhenEmpty = async (running: Gateway, spoolDir: string) => {
    while (running.queue.size > 0 && !stopping) await new Promise((r) => setTimeout(r, 1000))
    if (stopping) return
    send({ postern: true, type: 'retired' })
    stopping = (async () => {
      await running.stop()
      await rm(spoolDir, { recursive: true, force: true })
      logger?.info({ event: 'GATEWAY_SMTP_SPOOL_DRAINED', spoolDir }, 'spool drained, removed')
      process.exit(0)
    })()
  }

  const answer = async (id: number, op: ProcessOp, args: unknown[]) => {
    try {
      const value = await perform(gateway as Gateway, op, args)
      send({ postern: true, type: 'reply', id, value })
    } catch (err) {
      send({ postern: true, type: 'reply', id, error: toWireError(err) })
    }
  }

  process.on('message', (message: unknown) => {
    if (!isPosternMessage<ToSmtpProcess>(message)) return
    switch (message.type) {
      case 'start':
        start(message.slot, message.drain, message.config).catch((err: unknown) => {
          logger?.error(
            { event: 'GATEWAY_SMTP_PROCESS_START_FAILED', err: describeError(err) },
            'SMTP process failed to start',
          )
          send({ postern: true, type: 'start-failed', error: toWireError(err) })
          void stop('start failed')
        })
        break
      case 'call':
        if (gateway) void answer(message.id, message.op, message.args)
        break
      case 'settings-changed':
        reloadSettings?.().catch((err: unknown) =>
          logger?.error(
            { event: 'GATEWAY_SETTINGS_RELOAD_FAILED', err: describeError(err) },
            'settings could not be reloaded; the previous ones stay in force',
          ),
        )
        break
      case 'hub-intel':
        hubIntel = message.state
        shareHubIntel?.(message.state)
        break
      case 'stop':
        void stop('asked by the primary')
        break
    }
  })
  process.on('disconnect', () => void stop('the primary process is gone'))
  send({ postern: true, type: 'waiting' })
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}

/** One call of the primary, on this process's queue, health or metrics. */
async function perform(gateway: Gateway, op: ProcessOp, args: unknown[]): Promise<unknown> {
  const queue = gateway.queue
  const [mid, actor] = args as [number, string]
  switch (op) {
    case 'queue.list':
      return queue.list(args[0] as Parameters<typeof queue.list>[0])
    case 'queue.summary':
      return queue.summary()
    case 'queue.flush':
      return queue.flush()
    case 'queue.get':
      return queue.get(mid)
    case 'queue.hold':
      return queue.hold(mid, actor)
    case 'queue.release':
      return queue.release(mid, actor)
    case 'queue.delete':
      return queue.delete(mid, actor)
    case 'queue.bounce':
      return queue.bounceNow(mid, actor)
    case 'health':
      return gateway.health()
    case 'metrics':
      return gateway.metrics.snapshot()
  }
}
