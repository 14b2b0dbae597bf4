import { setImmediate as nextTurn } from 'node:timers/promises'
import { describeError, type Logger } from '@postern/core'
import type { DevicesRepo } from '@postern/store'
import {
  INTEL_MODULE_PATHS,
  intelBlockResult,
  intelEventsPush,
  type IntelEventsLost,
  type IntelEventsResult,
} from '@postern/tunnel'
import type { GatewayEventOutcome } from '../incidents/gateway-events.js'
import type {
  BlockAction,
  BlockEntry,
  GatewayBlockPusher,
  GatewayPushResult,
} from '../sharing/block-push.js'
import { hubErrors } from '../errors.js'
import type { DeviceConnection, DeviceTunnel } from './device-tunnel.js'

/** Entries per block-change call (the tunnel schema's maximum). */
const BLOCK_CHUNK = 5000

/**
 * How long one `intel.events` request may take before the hub answers for the events it has
 * handled: well under the gateways' request timeout (`cloud.requestTimeoutSeconds`, 5 s at
 * the least), so that a batch of slow events (a campaign's casebook grows with each) is never
 * sent twice because its answer came too late.
 */
export const EVENTS_TIME_BUDGET_MS = 2_000

export interface GatewayIntelDeps {
  tunnel: DeviceTunnel
  devices: DevicesRepo
  logger: Logger
  /** The org's watched observables (the watchlist service). */
  watched: (orgId: string) => Promise<{ type: string; value: string }[]>
  /** Handles one gateway event body (the private-intel `GatewayEventHandler`). */
  handleEvent: (
    device: { orgId: string; deviceId: string },
    body: unknown,
  ) => Promise<GatewayEventOutcome>
  /** Records events a gateway dropped from its queue under its cap (the audit log). */
  recordLost: (device: { orgId: string; deviceId: string }, lost: IntelEventsLost) => Promise<void>
}

/**
 * Private intelligence between the hub and its gateways over the device tunnels: block-list
 * changes go to every registered gateway of the org (an offline one is reported as failed, not
 * retried: the analyst sees it and pushes again), the org's watched observables go to each
 * gateway when it connects and whenever a watch changes, and the gateways' event batches
 * (`intel.events`) are handed to the event handler one by one, with the count of events a
 * gateway had to drop while the hub was away recorded.
 */
export class GatewayIntel implements GatewayBlockPusher {
  constructor(private readonly deps: GatewayIntelDeps) {}

  async push(
    orgId: string,
    entries: BlockEntry[],
    action: BlockAction = 'add',
  ): Promise<GatewayPushResult[]> {
    const devices = await this.deps.devices.list(orgId)
    return Promise.all(
      devices.map((device) =>
        this.reachable(device)
          ? this.pushTo(orgId, device.id, entries, action)
          : { deviceId: device.id, ok: false, error: notConnected(device.id) },
      ),
    )
  }

  private async pushTo(
    orgId: string,
    deviceId: string,
    entries: BlockEntry[],
    action: BlockAction,
  ): Promise<GatewayPushResult> {
    let changed = 0
    const refused: string[] = []
    try {
      for (let i = 0; i < entries.length; i += BLOCK_CHUNK) {
        const reply = intelBlockResult.parse(
          await this.deps.tunnel.callModule(orgId, deviceId, INTEL_MODULE_PATHS.blocks, {
            action,
            entries: entries.slice(i, i + BLOCK_CHUNK),
          }),
        )
        changed += reply.changed
        refused.push(...reply.refused.map((r) => `${r.kind}:${r.value}: ${r.reason}`))
      }
    } catch (err) {
      return { deviceId, ok: false, added: changed, error: describeError(err).slice(0, 500) }
    }
    return refused.length === 0
      ? { deviceId, ok: true, added: changed }
      : {
          deviceId,
          ok: false,
          added: changed,
          error: `refused ${refused.join('; ')}`.slice(0, 500),
        }
  }

  /** Sends the org's watched observables to each of its connected gateways. */
  async syncWatchlist(orgId: string): Promise<void> {
    const devices = await this.deps.devices.list(orgId)
    const connected = devices.filter((d) => this.reachable(d))
    if (connected.length === 0) return
    const observables = await this.deps.watched(orgId)
    await Promise.all(connected.map((d) => this.sendWatchlist(orgId, d.id, observables)))
  }

  /**
   * A gateway whose tunnel ends on this node or, in a cluster of hub nodes, on another one (the
   * device's presence row names the node; the call travels there over the cluster bus).
   */
  private reachable(device: { id: string; connectedNode: string | null }): boolean {
    return this.deps.tunnel.isConnected(device.id) || device.connectedNode !== null
  }

  /** For the tunnel's `onDeviceReady`: a gateway that (re)connects gets the current watchlist. */
  async deviceReady(device: DeviceConnection): Promise<void> {
    await this.sendWatchlist(device.orgId, device.deviceId, await this.deps.watched(device.orgId))
  }

  private async sendWatchlist(
    orgId: string,
    deviceId: string,
    observables: { type: string; value: string }[],
  ): Promise<void> {
    try {
      await this.deps.tunnel.callModule(orgId, deviceId, INTEL_MODULE_PATHS.watchlist, {
        observables,
      })
    } catch (err) {
      // The next connection or watch change sends the whole set again.
      this.deps.logger.warn(
        { event: 'WATCHLIST_SYNC_FAILED', orgId, deviceId, err: describeError(err) },
        'watchlist not sent to the gateway',
      )
    }
  }

  /**
   * The `intel.events` method: one result per event, in order, for as many events as fit in
   * the time budget (at least one); the gateway sends the rest again at once.
   */
  async events(
    params: unknown,
    device: DeviceConnection,
    budgetMs = EVENTS_TIME_BUDGET_MS,
  ): Promise<IntelEventsResult> {
    const parsed = intelEventsPush.safeParse(params)
    if (!parsed.success)
      throw hubErrors.DEVICE_CALL_INVALID({
        reason: parsed.error.issues[0]?.message ?? 'invalid intel.events body',
      })
    const { events, lost } = parsed.data
    // Recorded first: a failure here fails the request, so the gateway reports the loss again.
    if (lost) await this.deps.recordLost({ orgId: device.orgId, deviceId: device.deviceId }, lost)
    const results: IntelEventsResult['results'] = []
    const deadline = performance.now() + budgetMs
    for (const body of events) {
      if (results.length > 0 && performance.now() > deadline) break
      // On SQLite every query completes synchronously, so a batch would run as one chain of
      // microtasks and hold the event loop for its whole length: tunnel heartbeats and other
      // gateways' calls would wait (a gateway catching up after an outage timed out its
      // tunnel). One event per turn of the loop.
      await nextTurn()
      const outcome = await this.deps.handleEvent(
        { orgId: device.orgId, deviceId: device.deviceId },
        body,
      )
      results.push(
        outcome.ok
          ? { ok: true, retry: false }
          : { ok: false, retry: outcome.retry, error: outcome.error.slice(0, 2000) },
      )
    }
    return { results }
  }
}

function notConnected(deviceId: string): string {
  return hubErrors.DEVICE_NOT_CONNECTED({ deviceId }).message
}
