import cluster, { type Worker } from 'node:cluster'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { describeError, type Logger } from '@postern/core'
import type { GatewayConfig } from '../config.js'
import { gwErrors } from '../errors.js'
import type { MetricsSnapshot } from '../metrics/metrics.js'
import { oncePerTurn } from '../coalesce.js'
import { spoolSlots } from './numbering.js'
import {
  fromWireError,
  isPosternMessage,
  type FromSmtpProcess,
  type HubIntelState,
  type ProcessOp,
  type SmtpProcessCalls,
  type ToSmtpProcess,
} from './protocol.js'

/** The entry point each SMTP process runs (dist/smtp-processes/worker-main.js). */
const WORKER_MAIN = fileURLToPath(new URL('./worker-main.js', import.meta.url))

/** A process that ran at least this long is restarted at once; quicker deaths back off. */
const HEALTHY_RUN_MS = 10_000
const MAX_RESTART_DELAY_MS = 30_000
/** Longest wait for an SMTP process to answer a call (it may be busy, never this long). */
const CALL_TIMEOUT_MS = 30_000

interface SlotState {
  slot: number
  /** Beyond `smtpProcesses`: delivers its spool without listening, then retires. */
  drain: boolean
  retired: boolean
  worker: Worker | undefined
  ready: boolean
  startedAt: number
  restartDelayMs: number
  restartTimer: NodeJS.Timeout | undefined
  lastExit: string
}

interface PendingCall {
  slot: number
  resolve(value: unknown): void
  reject(err: Error): void
  timer: NodeJS.Timeout
}

/**
 * The primary's supervisor of the SMTP processes (`smtpProcesses` > 1): forks one per slot
 * with node:cluster, lets the kernel spread connections over them (`SCHED_NONE`: each process
 * accepts on the shared socket itself, the primary never carries a connection), hands each its
 * slot and the validated configuration, restarts any that dies (it recovers its own spool),
 * routes the API's calls to them, and stops them all — each drains — on `stop`. An SMTP
 * process exits by itself when the primary goes away (the IPC channel closes). A spool left by
 * a slot beyond a lowered `smtpProcesses` gets a process that only delivers it, then retires.
 */
export class SmtpProcessSupervisor implements SmtpProcessCalls {
  private readonly states = new Map<number, SlotState>()
  private readonly calls = new Map<number, PendingCall>()
  private nextCallId = 1
  private stopping = false
  private addresses: Record<string, string> | undefined
  /** The latest hub intelligence state, for processes that start after it was shared. */
  private hubIntel: HubIntelState | undefined
  private readonly hubEventsListeners: (() => void)[] = []
  private readonly blocklistsListeners: (() => void)[] = []
  /** Slots whose own block-list changes wait for this turn's broadcast. */
  private readonly changedBy = new Set<number>()
  private readonly broadcastChanges = oncePerTurn(() => this.tellOthersOfChanges())

  /** What each SMTP process runs with (analysis threads shared out, see `perProcess`). */
  private readonly config: GatewayConfig

  constructor(
    config: GatewayConfig,
    count: number,
    private readonly logger: Logger,
  ) {
    this.config = perProcess(config, count)
    const draining = spoolSlots(config.dataDir).filter((slot) => slot > count)
    for (const slot of [...Array.from({ length: count }, (_, i) => i + 1), ...draining]) {
      this.states.set(slot, {
        slot,
        drain: slot > count,
        retired: false,
        worker: undefined,
        ready: false,
        startedAt: 0,
        restartDelayMs: 1000,
        restartTimer: undefined,
        lastExit: 'not started yet',
      })
    }
  }

  /**
   * Forks every SMTP process and resolves with the listeners' addresses once all are ready
   * (each bound the same sockets); rejects with the first start failure.
   */
  async start(): Promise<Record<string, string>> {
    // Linux: every process accept()s on the shared socket; round-robin would make the primary
    // accept every connection and pass it on (one more hop, and the primary's CPU).
    cluster.schedulingPolicy = cluster.SCHED_NONE
    cluster.setupPrimary({ exec: WORKER_MAIN, args: [], silent: false, serialization: 'advanced' })
    const draining = [...this.states.values()].filter((s) => s.drain).map((s) => s.slot)
    if (draining.length > 0) {
      this.logger.warn(
        { event: 'GATEWAY_SMTP_SPOOL_DRAINING', slots: draining },
        'spools of SMTP processes beyond smtpProcesses still exist: delivering what they hold',
      )
    }
    const started = await Promise.allSettled(this.slots.map((slot) => this.fork(slot)))
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected')
    if (failed) throw failed.reason
    return this.addresses ?? {}
  }

  get slots(): number[] {
    return [...this.states.values()].filter((s) => !s.retired).map((s) => s.slot)
  }

  state(slot: number): { running: true; pid: number } | { running: false; reason: string } {
    const state = this.states.get(slot)
    if (state?.worker && state.ready) return { running: true, pid: state.worker.process.pid ?? 0 }
    return { running: false, reason: state?.lastExit ?? 'no such SMTP process' }
  }

  call<T>(slot: number, op: ProcessOp, args: unknown[] = []): Promise<T> {
    const state = this.states.get(slot)
    const worker = state?.ready ? state.worker : undefined
    if (!worker) {
      return Promise.reject(
        gwErrors.SMTP_PROCESS_UNAVAILABLE({ slot, reason: state?.lastExit ?? 'no such process' }),
      )
    }
    const id = this.nextCallId++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.calls.delete(id)
        reject(gwErrors.SMTP_PROCESS_UNAVAILABLE({ slot, reason: `no answer to ${op}` }))
      }, CALL_TIMEOUT_MS)
      this.calls.set(id, { slot, resolve: resolve as (value: unknown) => void, reject, timer })
      this.send(worker, { postern: true, type: 'call', id, op, args })
    })
  }

  async metrics(): Promise<MetricsSnapshot[]> {
    const running = this.slots.filter((slot) => this.state(slot).running)
    const snapshots = await Promise.allSettled(
      running.map((slot) => this.call<MetricsSnapshot>(slot, 'metrics')),
    )
    return snapshots.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  }

  /** Tells every running process that settings, block lists or policies changed. */
  settingsChanged(): void {
    for (const state of this.states.values()) {
      if (state.worker && state.ready) {
        this.send(state.worker, { postern: true, type: 'settings-changed' })
      }
    }
  }

  shareHubIntel(hubIntel: HubIntelState): void {
    this.hubIntel = hubIntel
    for (const state of this.states.values()) {
      if (state.worker)
        this.send(state.worker, { postern: true, type: 'hub-intel', state: hubIntel })
    }
  }

  onHubEventsQueued(listener: () => void): void {
    this.hubEventsListeners.push(listener)
  }

  onBlocklistsChanged(listener: () => void): void {
    this.blocklistsListeners.push(listener)
  }

  /**
   * One broadcast for every change reported in this turn: each process reloads unless the
   * changes were all its own (it applied them already). The primary's own reload is no change
   * of its own, so nothing is sent back: no loop.
   */
  private tellOthersOfChanges(): void {
    const origins = [...this.changedBy]
    this.changedBy.clear()
    if (this.stopping) return
    for (const state of this.states.values()) {
      if (!state.worker || !state.ready) continue
      if (origins.some((slot) => slot !== state.slot)) {
        this.send(state.worker, { postern: true, type: 'settings-changed' })
      }
    }
    for (const listener of this.blocklistsListeners) listener()
  }

  /** Stops every SMTP process (each drains its sessions and deliveries) and waits for them. */
  async stop(): Promise<void> {
    this.stopping = true
    const exits: Promise<void>[] = []
    for (const state of this.states.values()) {
      if (state.restartTimer) clearTimeout(state.restartTimer)
      const worker = state.worker
      if (!worker || worker.isDead()) continue
      exits.push(new Promise<void>((resolve) => worker.once('exit', () => resolve())))
      this.send(worker, { postern: true, type: 'stop' })
    }
    await Promise.all(exits)
  }

  private fork(slot: number): Promise<void> {
    const state = this.states.get(slot) as SlotState
    const worker = cluster.fork()
    state.worker = worker
    state.ready = false
    state.startedAt = Date.now()
    const log = this.logger.child({ smtpProcess: `smtp-${slot}`, pid: worker.process.pid })
    // A message sent just as the process exits meets a closed channel and is reported here
    // (child_process `send` without a callback): the exit handler settles what was pending; the
    // primary must not die of it.
    worker.on('error', (err) =>
      log.warn(
        { event: 'GATEWAY_SMTP_PROCESS_IPC_FAILED', err: describeError(err) },
        'message to an exiting SMTP process not sent',
      ),
    )
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: unknown) => {
        if (!isPosternMessage<FromSmtpProcess>(message)) return
        switch (message.type) {
          case 'waiting':
            this.send(worker, {
              postern: true,
              type: 'start',
              slot,
              drain: state.drain,
              config: this.config,
            })
            // Before its listeners open (the channel keeps order): no message goes unreported.
            if (this.hubIntel) {
              this.send(worker, { postern: true, type: 'hub-intel', state: this.hubIntel })
            }
            break
          case 'ready':
            state.ready = true
            if (!state.drain) this.addresses ??= message.smtp
            log.info({ event: 'GATEWAY_SMTP_PROCESS_READY' }, 'SMTP process ready')
            resolve()
            break
          case 'retired':
            state.retired = true
            log.info({ event: 'GATEWAY_SMTP_SPOOL_DRAINED' }, 'spool delivered and removed')
            break
          case 'start-failed':
            reject(fromWireError(message.error))
            break
          case 'reply':
            this.settle(message.id, message.value, message.error && fromWireError(message.error))
            break
          case 'hub-events-queued':
            for (const listener of this.hubEventsListeners) listener()
            break
          case 'blocklists-changed':
            this.changedBy.add(slot)
            this.broadcastChanges()
            break
        }
      })
      worker.on('exit', (code, signal) => {
        state.ready = false
        state.worker = undefined
        state.lastExit = signal ? `killed by ${signal}` : `exited with code ${code}`
        for (const [id, call] of this.calls) {
          if (call.slot === slot) {
            this.settle(
              id,
              undefined,
              gwErrors.SMTP_PROCESS_UNAVAILABLE({ slot, reason: state.lastExit }),
            )
          }
        }
        reject(gwErrors.SMTP_PROCESS_UNAVAILABLE({ slot, reason: state.lastExit }))
        if (this.stopping || state.retired) return
        this.restartLater(state, log)
      })
    })
  }

  /** Forks the slot again: at once after a long run, with a doubling delay after quick deaths. */
  private restartLater(state: SlotState, log: Logger): void {
    const ranFor = Date.now() - state.startedAt
    if (ranFor >= HEALTHY_RUN_MS) state.restartDelayMs = 1000
    const delay = ranFor >= HEALTHY_RUN_MS ? 0 : state.restartDelayMs
    state.restartDelayMs = Math.min(state.restartDelayMs * 2, MAX_RESTART_DELAY_MS)
    log.error(
      { event: 'GATEWAY_SMTP_PROCESS_EXITED', reason: state.lastExit, restartInMs: delay },
      'SMTP process exited; restarting it (it recovers its own spool)',
    )
    state.restartTimer = setTimeout(() => {
      state.restartTimer = undefined
      if (this.stopping) return
      this.fork(state.slot).catch((err: unknown) =>
        log.error(
          { event: 'GATEWAY_SMTP_PROCESS_START_FAILED', err: describeError(err) },
          'SMTP process failed to start again',
        ),
      )
    }, delay)
  }

  private settle(id: number, value: unknown, error: Error | undefined): void {
    const call = this.calls.get(id)
    if (!call) return
    this.calls.delete(id)
    clearTimeout(call.timer)
    if (error) call.reject(error)
    else call.resolve(value)
  }

  private send(worker: Worker, message: ToSmtpProcess): void {
    if (!worker.isConnected()) return
    worker.send(message)
  }
}

/**
 * The configuration of the SMTP processes: `pipeline.workers: auto` (CPUs − 1 analysis threads)
 * is shared out between them, so N processes do not start N × (CPUs − 1) threads.
 */
export function perProcess(config: GatewayConfig, count: number): GatewayConfig {
  if (config.pipeline.workers !== 'auto') return config
  const workers = Math.max(1, Math.floor((availableParallelism() - 1) / count))
  return { ...config, pipeline: { ...config.pipeline, workers } }
}
