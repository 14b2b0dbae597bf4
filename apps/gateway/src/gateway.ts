import { mkdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import {
  createLogger,
  describeError,
  formatHostPort,
  parseHostPort,
  systemClock,
  type Clock,
  type HostPort,
  type Logger,
} from '@postern/core'
import { createHttpApp, type HttpApp } from '@postern/http'
import {
  ApiAccountStore,
  AuditLog,
  Database,
  migrateToLatest,
  nodeIdRange,
  resolveDatabaseTarget,
  TrackingPartitions,
  TrackingStore,
  type GatewaySchema,
} from '@postern/store'
import { ApiAuth } from './api/auth.js'
import { RUNTIME_FILE, writePrivateFile } from './api/credentials.js'
import { registerRoutes } from './api/routes.js'
import type { GatewayConfig } from './config.js'
import { DeliveryQueue } from './delivery/queue.js'
import { Router } from './delivery/router.js'
import { gwErrors } from './errors.js'
import { GatewayMetrics } from './metrics/metrics.js'
import { passThroughProcessor, type MessageProcessor } from './pipeline/processor.js'
import { SmtpListener } from './smtp/listener.js'
import { ReverseDns } from './smtp/rdns.js'
import type { SessionPolicy } from './smtp/session-policy.js'
import { loadTlsFiles, selfSignedTls, type TlsMaterial } from './smtp/tls.js'
import { ClusterQueue } from './smtp-processes/cluster-queue.js'
import { processIdRange, spoolDirOf } from './smtp-processes/numbering.js'
import { smtpProcessesHealth, type SmtpProcessCalls } from './smtp-processes/protocol.js'
import { Spool } from './spool/spool.js'
import { TrackingRetention } from './tracking/retention.js'
import { TrackingWorker } from './tracking/worker.js'
import { TrackingWriter } from './tracking/writer.js'

const VERSION = '0.1.0'

/**
 * A piece of another area (content pipeline, remediation, cloud connector …) plugged into the
 * gateway: `setup` runs once while the gateway is assembled, before anything listens, and may
 * register routes on `gateway.http`, set the message processor, add session policies, and
 * register start and stop hooks.
 */
export interface GatewayExtension {
  readonly name: string
  setup(gateway: Gateway): void | Promise<void>
}

export interface GatewayOptions {
  logger?: Logger
  clock?: Clock
  extensions?: readonly GatewayExtension[]
  /** Overrides the DNS resolvers (tests). */
  rdns?: ReverseDns
  /** The part this process plays (`smtpProcesses`); default: the whole gateway in one process. */
  role?: GatewayRole
}

/**
 * What one process of a gateway node does:
 * - `single`: everything (one process, `smtpProcesses: 1`).
 * - `primary`: everything but SMTP — the HTTP API, singletons (retention, cloud connector,
 *   remediation), and its own spool and queue (slot 0) for the mail the API submits.
 * - `smtp`: one SMTP process (slot 1…31): listeners, its own spool, queue and delivery thread;
 *   no HTTP listener and no singletons. `drain`: no listeners either, it only delivers what
 *   its spool holds (a slot beyond a lowered `smtpProcesses`).
 */
export type GatewayRole =
  | { kind: 'single' }
  | { kind: 'primary'; processes: SmtpProcessCalls }
  | { kind: 'smtp'; slot: number; drain?: boolean }

/** Where a started gateway listens (real ports when 0 was configured). */
export interface GatewayAddresses {
  smtp: Record<string, HostPort>
  http: HostPort
}

/**
 * The gateway's composition root: storage, spool, queue, listeners and HTTP API, wired once
 * from the validated configuration. `create` assembles (and recovers the spool); `start`
 * listens; `stop` drains and closes in the reverse order.
 */
export class Gateway {
  readonly logger: Logger
  readonly clock: Clock
  readonly metrics: GatewayMetrics
  readonly tracking: { writer: TrackingWriter; store: TrackingStore }
  readonly accounts: ApiAccountStore
  readonly audit: AuditLog
  readonly auth: ApiAuth
  readonly listeners: readonly SmtpListener[]
  private processor: MessageProcessor = passThroughProcessor
  private readonly policies: SessionPolicy[] = []
  private readonly startHooks: (() => Promise<void> | void)[] = []
  private readonly stopHooks: (() => Promise<void> | void)[] = []
  private started = false
  private stopping: Promise<void> | undefined
  private addressesValue: GatewayAddresses | undefined
  private readonly trackingWorker: TrackingWorker | undefined
  /** Every HTTP route registered (by the core and by extensions), with its access rule. */
  readonly routes: readonly { method: string; url: string; public: boolean; role: string }[]
  /** Extra health checks (the primary adds one per SMTP process). */
  private readonly healthChecks: (() => Promise<HealthReport>)[] = []

  private constructor(
    readonly config: GatewayConfig,
    readonly database: Database<GatewaySchema>,
    readonly spool: Spool,
    readonly queue: DeliveryQueue,
    readonly router: Router,
    readonly http: HttpApp,
    readonly role: GatewayRole,
    parts: {
      logger: Logger
      clock: Clock
      metrics: GatewayMetrics
      writer: TrackingWriter
      store: TrackingStore
      accounts: ApiAccountStore
      audit: AuditLog
      auth: ApiAuth
      listeners: SmtpListener[]
      trackingWorker: TrackingWorker | undefined
      routes: { method: string; url: string; public: boolean; role: string }[]
    },
  ) {
    this.routes = parts.routes
    this.trackingWorker = parts.trackingWorker
    this.logger = parts.logger
    this.clock = parts.clock
    this.metrics = parts.metrics
    this.tracking = { writer: parts.writer, store: parts.store }
    this.accounts = parts.accounts
    this.audit = parts.audit
    this.auth = parts.auth
    this.listeners = parts.listeners
    this.metrics.sampleOnScrape(() => this.sampleStateGauges())
  }

  static async create(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
    const logger =
      options.logger ?? createLogger({ level: config.log.level, name: 'postern-gateway' })
    const clock = options.clock ?? systemClock
    const role = options.role ?? { kind: 'single' }
    const slot = role.kind === 'smtp' ? role.slot : 0
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
    const metrics = new GatewayMetrics()

    const database = await Database.open<GatewaySchema>(
      resolveDatabaseTarget(config.database, config.dataDir, 'gateway.db'),
      { logger },
    )
    const cleanup: (() => Promise<unknown>)[] = [() => database.close()]
    try {
      await migrateToLatest(database, 'gateway', logger)
      const store = new TrackingStore(database.db, database.dialect)
      // Writes go through a worker thread with its own connection (the SMTP event loop never
      // waits for SQLite or builds statements); an in-memory SQLite database has one connection.
      // The primary of several processes runs no SMTP: its few rows need no thread of their own.
      const worker =
        database.target.location === ':memory:' || role.kind === 'primary'
          ? undefined
          : await TrackingWorker.start(database.target)
      if (worker) cleanup.push(() => worker.close())
      const writer = new TrackingWriter(
        worker ?? store,
        {
          flushIntervalMs: config.tracking.flushInterval,
          maxBatchRows: config.tracking.maxBatchRows,
          maxPendingRows: config.tracking.maxPendingRows,
        },
        logger.child({ component: 'tracking' }),
        {
          onFlush: (rows, seconds) => {
            metrics.trackingRowsWritten.inc(rows)
            metrics.trackingFlushSeconds.observe(seconds)
          },
          onError: () => metrics.trackingErrors.inc(),
          onDropped: (rows) => metrics.trackingRowsDropped.inc(rows),
        },
      )
      const spool = await Spool.open(
        {
          dir: spoolDirOf(config.dataDir, slot),
          segmentSize: config.spool.segmentSize,
          inlineMaxSize: config.spool.inlineMaxSize,
          maxBatchBytes: config.spool.maxBatchBytes,
          compactAfterMs: config.spool.compactAfter,
          minFreeBytes: config.spool.minFreeSpace,
          freeSpaceRefreshMs: config.spool.freeSpaceCheckInterval,
          clock,
        },
        logger.child({ component: 'spool' }),
        {
          onCommit: (seconds, records) => {
            metrics.spoolCommitSeconds.observe(seconds)
            metrics.spoolCommitRecords.observe(records)
          },
        },
      )
      cleanup.push(() => spool.close())
      // A cluster node numbers its messages in its own range of the shared database, and each
      // of its processes in its own slot of that range (smtp-processes/numbering.ts).
      const nodeIds = nodeIdRange(config.nodeNumber)
      const ids = processIdRange(config.nodeNumber, slot)
      spool.raiseIds({ mid: ids.from, icid: ids.from, dcid: ids.from })
      spool.raiseIds(await store.highestIds(ids))

      const router = new Router({
        config,
        allocateDcid: () => spool.allocateDcid(),
        // The primary of several processes delivers only what the API submits: no thread.
        deliveryThread: role.kind !== 'primary',
        logger: logger.child({ component: 'delivery' }),
        clock,
      })
      // The gateway object exists only at the end; these closures read it when called.
      const late: { gateway?: Gateway } = {}
      const queue = new DeliveryQueue({
        config,
        spool,
        tracking: writer,
        metrics,
        router,
        processor: () => late.gateway?.processor ?? passThroughProcessor,
        logger: logger.child({ component: 'queue' }),
        clock,
      })

      const defaultTls = await loadTls(config)
      const rdns =
        options.rdns ??
        new ReverseDns({
          timeoutMs: config.rdns.timeout,
          cacheTtlMs: config.rdns.cacheTtl,
          cacheSize: config.rdns.cacheSize,
          clock,
        })
      const listeners: SmtpListener[] = []
      const listens = role.kind !== 'primary' && !(role.kind === 'smtp' && role.drain)
      for (const listenerConfig of listens ? config.listeners : []) {
        const own = listenerConfig.tls
        const tls = own.cert && own.key ? await loadTlsFiles(own.cert, own.key) : defaultTls
        if (own.implicit && !tls) {
          throw gwErrors.TLS_FILES_UNREADABLE({
            cert: own.cert ?? '(none)',
            key: own.key ?? '(none)',
            reason: `listener ${listenerConfig.name} uses implicit TLS but has no certificate`,
          })
        }
        listeners.push(
          new SmtpListener(listenerConfig, {
            hostname: config.hostname,
            spool,
            tracking: writer,
            metrics,
            rdns,
            policies: () => late.gateway?.policies ?? [],
            onAccepted: (entry, body) => queue.enqueue(entry, body),
            logger: logger.child({ component: 'smtp' }),
            tls,
            rdnsForTracking: config.rdns.forTracking,
            clock,
          }),
        )
      }

      const accounts = new ApiAccountStore(database.db)
      const audit = new AuditLog(database.db as never, clock)
      const auth = new ApiAuth(accounts, config, logger.child({ component: 'api' }), clock)
      const http = await createHttpApp({
        logger: logger.child({ component: 'http' }),
        title: 'Postern gateway API',
        description: 'Queue, message tracking and accounts of a Postern email security gateway.',
        version: VERSION,
        trustProxy: config.api.trustProxy,
      })
      cleanup.push(() => http.close())
      const routes: { method: string; url: string; public: boolean; role: string }[] = []
      http.addHook('onRoute', (route) => {
        for (const method of [route.method].flat()) {
          if (method === 'HEAD') continue
          const config = (route.config ?? {}) as { public?: boolean; role?: string }
          routes.push({
            method,
            url: route.url,
            public: config.public === true,
            role: config.role ?? 'admin',
          })
        }
      })
      auth.install(http)

      const gateway = new Gateway(config, database, spool, queue, router, http, role, {
        logger,
        clock,
        metrics,
        writer,
        store,
        accounts,
        audit,
        auth,
        listeners,
        trackingWorker: worker,
        routes,
      })
      late.gateway = gateway
      if (role.kind !== 'smtp') {
        // Once per node: the primary purges what every process of the node tracked.
        const retention = new TrackingRetention({
          store,
          partitions: new TrackingPartitions(database.db, database.dialect),
          retentionMs: config.tracking.retention,
          intervalMs: config.tracking.purgeInterval,
          range: nodeIds,
          clock,
          logger: logger.child({ component: 'tracking-retention' }),
          onPurged: (messages) => metrics.trackingMessagesPurged.inc(messages),
        })
        gateway.onStart(() => retention.start())
        gateway.onStop(() => retention.stop())
      }
      if (role.kind === 'primary') {
        metrics.addRemoteSource(() => role.processes.metrics())
        gateway.addHealthCheck(() => smtpProcessesHealth(role.processes))
      }
      registerRoutes(http, {
        config,
        auth,
        accounts,
        // The primary answers for the queues of every process: each MID goes to its owner.
        queue:
          role.kind === 'primary'
            ? new ClusterQueue(queue, role.processes, config.nodeNumber)
            : queue,
        tracking: store,
        metrics,
        audit,
        health: () => gateway.health(),
      })
      if (role.kind !== 'smtp') await auth.ensureInitialAdmin()
      for (const extension of options.extensions ?? []) {
        await extension.setup(gateway)
        logger.debug({ event: 'GATEWAY_EXTENSION', extension: extension.name }, 'extension set up')
      }
      return gateway
    } catch (err) {
      for (const close of cleanup.reverse()) await close().catch(() => undefined)
      throw err
    }
  }

  /** The message processor in force (extensions wrap it). */
  get messageProcessor(): MessageProcessor {
    return this.processor
  }

  /** The content pipeline (default: pass-through). */
  setMessageProcessor(processor: MessageProcessor): void {
    this.processor = processor
  }

  /** An SMTP-time policy, consulted after those added before it. */
  addSessionPolicy(policy: SessionPolicy): void {
    this.policies.push(policy)
  }

  /** Runs once the gateway listens (in order of registration); a failure fails `start`. */
  onStart(hook: () => Promise<void> | void): void {
    this.startHooks.push(hook)
  }

  /** Runs while the gateway stops, before storage closes (in reverse order of registration). */
  onStop(hook: () => Promise<void> | void): void {
    this.stopHooks.push(hook)
  }

  get addresses(): GatewayAddresses {
    if (!this.addressesValue) throw new Error('the gateway is not started')
    return this.addressesValue
  }

  /**
   * Recovers the queue, then listens (SMTP and HTTP). An SMTP process of several stops after
   * SMTP: the primary serves HTTP and writes the CLI's credential and runtime file.
   */
  async start(): Promise<GatewayAddresses> {
    if (this.started) return this.addresses
    this.started = true
    this.tracking.writer.start()
    this.queue.recover(this.spool.entries())
    const smtp: Record<string, HostPort> = {}
    for (const listener of this.listeners) smtp[listener.name] = await listener.start()
    if (this.role.kind === 'smtp') {
      this.addressesValue = { smtp, http: parseHostPort(this.config.http) }
      for (const hook of this.startHooks) await hook()
      this.logger.info(
        { event: 'GATEWAY_READY', smtp: formatAddresses(smtp), queued: this.queue.size },
        'SMTP process ready',
      )
      return this.addressesValue
    }
    return this.listenHttp(smtp)
  }

  private async listenHttp(smtp: Record<string, HostPort>): Promise<GatewayAddresses> {
    const { host, port } = parseHostPort(this.config.http)
    try {
      await this.http.listen({ host, port })
    } catch (err) {
      throw gwErrors.HTTP_BIND_FAILED(
        { address: this.config.http, reason: describeError(err) },
        { cause: err },
      )
    }
    const info = this.http.server.address()
    const http =
      typeof info === 'object' && info ? { host: info.address, port: info.port } : { host, port }
    this.addressesValue = { smtp, http }
    await this.auth.issueLocalCredential(this.config.dataDir)
    await writePrivateFile(
      join(this.config.dataDir, RUNTIME_FILE),
      `${JSON.stringify({ pid: process.pid, http: formatHostPort(http), smtp: formatAddresses(smtp) }, null, 2)}\n`,
    )
    for (const hook of this.startHooks) await hook()
    this.logger.info(
      {
        event: 'GATEWAY_READY',
        smtp: formatAddresses(smtp),
        http: formatHostPort(http),
        queued: this.queue.size,
      },
      'gateway ready',
    )
    return this.addressesValue
  }

  /** Stops listening, lets running deliveries finish (bounded), flushes tracking, closes. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop()
    return this.stopping
  }

  private async doStop(): Promise<void> {
    this.logger.info({ event: 'GATEWAY_STOPPING' }, 'gateway stopping')
    await Promise.all(this.listeners.map((l) => l.stop()))
    await this.queue.stop()
    for (const hook of [...this.stopHooks].reverse()) {
      try {
        await hook()
      } catch (err) {
        this.logger.error(
          { event: 'GATEWAY_STOP_HOOK_FAILED', err: describeError(err) },
          'stop hook failed',
        )
      }
    }
    await this.router.close()
    await this.http.close()
    if (this.started && this.role.kind !== 'smtp') {
      await this.auth.revokeLocalCredential(this.config.dataDir)
      await rm(join(this.config.dataDir, RUNTIME_FILE), { force: true })
    }
    await this.tracking.writer.stop()
    await this.trackingWorker?.close()
    await this.spool.close()
    await this.database.close()
    this.logger.info({ event: 'GATEWAY_STOPPED' }, 'gateway stopped')
  }

  /** A check `health` adds to its own (the SMTP processes, in the primary). */
  addHealthCheck(check: () => Promise<HealthReport>): void {
    this.healthChecks.push(check)
  }

  /** `GET /healthz`: the spool accepts writes, the database answers (in every process). */
  async health(): Promise<HealthReport> {
    const checks: Record<string, string> = {}
    checks.spool = this.spool.failed ? 'failed: writes refused until restart' : 'ok'
    try {
      await this.database.ping()
      checks.database = 'ok'
    } catch (err) {
      checks.database = `failed: ${describeError(err)}`
    }
    checks.tracking = `${this.tracking.writer.pendingRows} rows pending`
    checks.queue = `${this.queue.size} messages`
    let ok = checks.spool === 'ok' && checks.database === 'ok'
    for (const check of this.healthChecks) {
      const more = await check()
      Object.assign(checks, more.checks)
      ok &&= more.ok
    }
    return { ok, checks }
  }

  private sampleStateGauges(): void {
    this.metrics.spoolBytes.set(this.spool.diskUsage().bytes)
    this.metrics.trackingPendingRows.set(this.tracking.writer.pendingRows)
  }
}

/** What `GET /healthz` reports: ok, and one line per check. */
export interface HealthReport {
  ok: boolean
  checks: Record<string, string>
}

function formatAddresses(smtp: Record<string, HostPort>): Record<string, string> {
  return Object.fromEntries(Object.entries(smtp).map(([n, a]) => [n, formatHostPort(a)]))
}

async function loadTls(config: GatewayConfig): Promise<TlsMaterial | undefined> {
  if (config.tls.cert && config.tls.key) return loadTlsFiles(config.tls.cert, config.tls.key)
  if (config.tls.selfSigned) return selfSignedTls(join(config.dataDir, 'tls'), config.hostname)
  return undefined
}
