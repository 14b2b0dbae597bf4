import { AppError, listErrorCatalogs, type ErrorParams } from '@postern/core'
import type { GatewayConfig } from '../config.js'
import type { Observable } from '../intel/detections.js'
import type { MetricsSnapshot } from '../metrics/metrics.js'

/**
 * The messages the primary and its SMTP processes exchange over the cluster IPC channel
 * (JSON, `process.send`). Each carries `postern: true`, so other users of the channel
 * (node:cluster itself, prom-client) are told apart.
 */

/** What the primary asks an SMTP process (`call`), answered by a `reply`. */
export type ProcessOp =
  | 'queue.list'
  | 'queue.get'
  | 'queue.summary'
  | 'queue.hold'
  | 'queue.release'
  | 'queue.delete'
  | 'queue.bounce'
  | 'queue.flush'
  | 'health'
  | 'metrics'

/** An error crossing the channel: a coded error keeps its code and params (its HTTP status). */
export interface WireError {
  code?: string
  params?: ErrorParams
  message: string
}

export type ToSmtpProcess =
  /** `drain`: a slot beyond `smtpProcesses` whose spool still holds mail: deliver it, retire. */
  | { postern: true; type: 'start'; slot: number; drain: boolean; config: GatewayConfig }
  | { postern: true; type: 'call'; id: number; op: ProcessOp; args: unknown[] }
  /** Settings, block lists or policies changed through the primary's API: reload them now. */
  | { postern: true; type: 'settings-changed' }
  /** What the primary's hub connection says each process reports (sent again on change). */
  | { postern: true; type: 'hub-intel'; state: HubIntelState }
  | { postern: true; type: 'stop' }

export type FromSmtpProcess =
  /** Loaded and listening for messages (one sent earlier would have been lost): send `start`. */
  | { postern: true; type: 'waiting' }
  | { postern: true; type: 'ready'; smtp: Record<string, string> }
  | { postern: true; type: 'start-failed'; error: WireError }
  /** A draining process delivered everything and removed its spool: do not fork it again. */
  | { postern: true; type: 'retired' }
  | { postern: true; type: 'reply'; id: number; value?: unknown; error?: WireError }
  /** Events for the hub were queued in the shared outbox: the primary's connector sends them. */
  | { postern: true; type: 'hub-events-queued' }
  /**
   * This process changed a block list or blocked a user itself (a policy's block action): the
   * primary reloads its own lists and tells the other processes (`settings-changed`).
   */
  | { postern: true; type: 'blocklists-changed' }

/**
 * Hub private intelligence as the primary's cloud connector knows it, for the SMTP processes
 * (which have no connection to the hub): whether the gateway works with a hub (only then are
 * events queued), the machine name the outbox rows belong to (the primary's connector sends
 * that machine's rows), and the observables the hub asked this gateway to watch.
 */
export interface HubIntelState {
  withHub: boolean
  machine: string
  watched: Observable[]
}

export function isPosternMessage<T>(message: unknown): message is T {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { postern?: unknown }).postern === true
  )
}

export function toWireError(err: unknown): WireError {
  if (err instanceof AppError) return { code: err.code, params: err.params, message: err.message }
  return { message: err instanceof Error ? err.message : String(err) }
}

/** The coded error again (same code, message, hint and status), or a plain Error. */
export function fromWireError(wire: WireError): Error {
  if (wire.code) {
    const prefix = wire.code.slice(0, wire.code.indexOf('_ERR_'))
    const entry = listErrorCatalogs()
      .get(prefix)
      ?.find((e) => e.code === wire.code)
    if (entry) return new AppError(entry.code, entry.spec, wire.params)
  }
  return new Error(wire.message)
}

/** The primary's side of the SMTP processes, as the gateway's API and metrics use it. */
export interface SmtpProcessCalls {
  /** Slots with a process (1…N, and draining ones), running right now or being restarted. */
  readonly slots: readonly number[]
  /** Asks one process; fails with GW_ERR_SMTP_PROCESS_UNAVAILABLE while it is not running. */
  call<T>(slot: number, op: ProcessOp, args?: unknown[]): Promise<T>
  /** Tells every running process that settings, block lists or policies changed. */
  settingsChanged(): void
  /** Hands every process, and each one started later, the hub intelligence state. */
  shareHubIntel(state: HubIntelState): void
  /** `listener` runs when an SMTP process queued events for the hub. */
  onHubEventsQueued(listener: () => void): void
  /**
   * `listener` runs when an SMTP process changed block lists itself, once the other processes
   * were told: the primary reloads its own lists.
   */
  onBlocklistsChanged(listener: () => void): void
  /** Metrics of every running process. */
  metrics(): Promise<MetricsSnapshot[]>
  /** The state of each slot's process: its pid when running. */
  state(slot: number): { running: true; pid: number } | { running: false; reason: string }
}

/** `/healthz` lines of the SMTP processes: one per slot, failing while one is not running. */
export async function smtpProcessesHealth(
  processes: SmtpProcessCalls,
): Promise<{ ok: boolean; checks: Record<string, string> }> {
  const checks: Record<string, string> = {}
  let ok = true
  await Promise.all(
    processes.slots.map(async (slot) => {
      const name = `smtp-${slot}`
      const state = processes.state(slot)
      if (!state.running) {
        ok = false
        checks[name] = `not running: ${state.reason}`
        return
      }
      try {
        const health = await processes.call<{ ok: boolean; checks: Record<string, string> }>(
          slot,
          'health',
        )
        ok &&= health.ok
        checks[name] = health.ok
          ? `ok (pid ${state.pid}, queue ${health.checks.queue ?? 'unknown'})`
          : `failed (pid ${state.pid}): spool ${health.checks.spool}; database ${health.checks.database}`
      } catch (err) {
        ok = false
        checks[name] =
          `failed (pid ${state.pid}): ${err instanceof Error ? err.message : String(err)}`
      }
    }),
  )
  return { ok, checks }
}
