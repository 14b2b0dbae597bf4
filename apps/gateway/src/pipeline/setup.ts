import { availableParallelism } from 'node:os'
import type { Kysely } from 'kysely'
import type { Registry } from 'prom-client'
import { silentLogger, systemClock, type Clock, type Logger } from '@postern/core'
import {
  BlocklistStore,
  ContentRecords,
  MailPoliciesRepo,
  QuarantineStore,
  SenderHistoryStore,
  type AuditLog,
  type ContentSchema,
  type GatewaySchema,
} from '@postern/store'
import { BlocklistScanner } from '../blocklists/blocklist-scanner.js'
import { BlocklistService } from '../blocklists/blocklist-service.js'
import { compilePolicies } from '../policy/compile.js'
import { PolicyEditor } from '../policy/policy-editor.js'
import {
  DEFAULT_INCOMING_RULES,
  DEFAULT_OUTGOING_RULES,
  policySchema,
  type PoliciesConfig,
} from '../policy/config.js'
import { QuarantineService, type ReleaseQueue } from '../quarantine/quarantine-service.js'
import { AttachmentCheck } from '../scanners/builtin/attachment-check.js'
import { PhishingCheck } from '../scanners/builtin/phishing-check.js'
import { DisplayNameSpoofCheck, NewSenderDomainCheck } from '../scanners/builtin/sender-checks.js'
import { SenderKnowledge } from '../scanners/builtin/sender-knowledge.js'
import { ClamavScanner } from '../scanners/clamav/clamav-scanner.js'
import type { Scanner } from '../scanners/contract.js'
import { RspamdScanner } from '../scanners/rspamd/rspamd-scanner.js'
import { AnalysisPool } from './analysis/analysis-pool.js'
import type { WorkerSettings } from './analysis/protocol.js'
import type { AnalysisLimits } from './analysis/types.js'
import type { PipelineConfig } from './config.js'
import { ContentPipeline } from './content-pipeline.js'
import type { EventSink } from './events.js'
import { PipelineMetrics } from './metrics.js'
import type { MailInjector } from './notifier.js'

export interface ContentPipelineDeps {
  /** The gateway's database (its schema includes the content tables of migration 0200). */
  db: Kysely<GatewaySchema> | Kysely<ContentSchema>
  /** The gateway's host name (greeting, Authentication-Results, notifications). */
  hostname: string
  /** Recipient domains the listeners accept (RAT): internal users live there. */
  acceptedDomains: readonly string[]
  /** Where quarantine movements are recorded (the tracking writer). */
  events: EventSink
  releaseQueue?: ReleaseQueue | null
  injector?: MailInjector | null
  audit?: AuditLog | null
  /** The gateway's metrics registry, for the pipeline's own metrics. */
  metricsRegistry?: Registry | null
  clock?: Clock
  logger?: Logger
  /**
   * Run the quarantine's retention sweeps and resume interrupted releases (default). Off in
   * the SMTP processes of a multi-process gateway: the primary does it once for all.
   */
  background?: boolean
}

/** Everything the pipeline is made of, for the gateway to wire into SMTP, the API and the CLI. */
export interface ContentPipelineSetup {
  pipeline: ContentPipeline
  analysis: AnalysisPool
  blocklists: BlocklistService
  quarantine: QuarantineService
  knowledge: SenderKnowledge
  records: ContentRecords
  scanners: readonly Scanner[]
  policyEditor: PolicyEditor
  close(): Promise<void>
}

export function analysisLimits(config: PipelineConfig): AnalysisLimits {
  const l = config.limits
  return {
    maxDepth: l.maxDepth,
    maxParts: l.maxParts,
    maxHeaderBytes: l.maxHeaderSize,
    maxDecodedBytes: l.maxDecodedSize,
    maxParseMs: l.maxParseTime,
    maxTextBytes: l.maxTextSize,
    maxUrls: l.maxUrls,
    maxArchiveEntries: l.maxArchiveEntries,
    maxArchiveEntryBytes: l.maxArchiveEntrySize,
  }
}

export function workerSettings(config: PipelineConfig, hostname: string): WorkerSettings {
  const a = config.authentication
  return {
    limits: analysisLimits(config),
    auth: {
      enabled: a.enabled,
      authservId: a.authservId ?? hostname,
      minKeyBits: a.minKeyBits,
      arc: a.arc,
      dmarc: a.dmarc,
      timeoutMs: a.timeout,
      dns: {
        servers: a.dns.servers,
        timeoutMs: a.dns.timeout,
        tries: a.dns.tries,
        positiveTtlMs: a.dns.cacheTtl,
        negativeTtlMs: a.dns.negativeCacheTtl,
        failureTtlMs: a.dns.failureCacheTtl,
        maxEntries: a.dns.cacheSize,
      },
    },
  }
}

/** Compiles both directions' policies (done once at start; configuration errors stop the start). */
export function compileAllPolicies(config: PipelineConfig) {
  const options = {
    executableExtensions: config.scanners.builtin.attachments.executableExtensions,
    quarantines: Object.keys(config.quarantine.quarantines),
  }
  const policies: PoliciesConfig = config.policies
  return {
    incoming: compilePolicies(
      policies,
      'incoming',
      policySchema.parse({ name: 'built-in default', rules: DEFAULT_INCOMING_RULES }),
      options,
    ),
    outgoing: compilePolicies(
      policies,
      'outgoing',
      policySchema.parse({ name: 'built-in default', rules: DEFAULT_OUTGOING_RULES }),
      options,
    ),
  }
}

/**
 * Builds and starts the content pipeline from its configuration: analysis workers, block
 * lists, learned sender facts, scanners, compiled policies, quarantines (with their retention
 * sweeper). `close` stops all of it.
 */
export async function startContentPipeline(
  config: PipelineConfig,
  deps: ContentPipelineDeps,
): Promise<ContentPipelineSetup> {
  const clock = deps.clock ?? systemClock
  const logger = deps.logger ?? silentLogger()
  const policyEditor = new PolicyEditor({
    config,
    repo: new MailPoliciesRepo(deps.db as Kysely<GatewaySchema>),
    audit: deps.audit ?? null,
    clock,
    logger: logger.child({ component: 'policies' }),
    compile: compileAllPolicies,
  })
  const policies = await policyEditor.load()
  const workers =
    config.workers === 'auto' ? Math.max(1, availableParallelism() - 1) : config.workers
  const analysis = new AnalysisPool({
    settings: workerSettings(config, deps.hostname),
    workers,
    jobsPerWorker: config.jobsPerWorker,
    logger: logger.child({ component: 'analysis' }),
  })
  // Kysely's schema type is invariant; the content stores only touch their own tables.
  const db = deps.db as unknown as Kysely<ContentSchema>
  const records = new ContentRecords(db)
  const blocklists = new BlocklistService(new BlocklistStore(db), {
    refreshIntervalMs: config.blocklists.refreshInterval,
    clock,
    logger: logger.child({ component: 'blocklists' }),
    audit: deps.audit ?? null,
  })
  const builtin = config.scanners.builtin
  const knowledge = new SenderKnowledge(new SenderHistoryStore(db), {
    internalDomains: [...config.internalDomains, ...deps.acceptedDomains],
    protectedNames: builtin.displayNameSpoof.protectedNames,
    flushIntervalMs: 5_000,
    maxCachedDomains: 100_000,
    clock,
    logger,
  })
  const quarantine = new QuarantineService(new QuarantineStore(db), {
    config: config.quarantine,
    events: deps.events,
    analysis,
    releaseQueue: deps.releaseQueue ?? null,
    audit: deps.audit ?? null,
    records,
    clock,
    logger: logger.child({ component: 'quarantine' }),
  })
  const scanners: Scanner[] = [
    new AttachmentCheck(builtin.attachments),
    new PhishingCheck(builtin.phishing),
    new DisplayNameSpoofCheck(builtin.displayNameSpoof, knowledge),
    new NewSenderDomainCheck(builtin.newSenderDomain, knowledge, () => clock.now()),
  ]
  if (config.blocklists.enabled) scanners.push(new BlocklistScanner(blocklists))
  if (config.scanners.rspamd.enabled) scanners.push(new RspamdScanner(config.scanners.rspamd))
  if (config.scanners.clamav.enabled) scanners.push(new ClamavScanner(config.scanners.clamav))

  const started: { stop(): unknown }[] = []
  const close = async (): Promise<void> => {
    for (const service of started.reverse()) await service.stop()
    for (const scanner of scanners) await scanner.close?.()
    await analysis.close()
  }
  try {
    await blocklists.start()
    started.push(blocklists)
    await knowledge.start()
    started.push(knowledge)
    if (deps.background !== false) {
      await quarantine.start()
      started.push(quarantine)
    }
  } catch (err) {
    await close()
    throw err
  }
  const authservId = config.authentication.authservId ?? deps.hostname
  const observer = deps.metricsRegistry
    ? new PipelineMetrics(deps.metricsRegistry, { quarantine, blocklists })
    : null
  const pipeline = new ContentPipeline({
    hostname: deps.hostname,
    analysis,
    scanners,
    policies,
    quarantine,
    blocklists,
    authentication: {
      enabled: config.authentication.enabled,
      addHeader: config.authentication.addHeader,
      authservId,
    },
    notifyFrom: config.policies.notifyFrom ?? `postmaster@${deps.hostname}`,
    injector: deps.injector ?? null,
    observer,
    clock,
    logger: logger.child({ component: 'pipeline' }),
  })
  policyEditor.attach((compiled) => pipeline.setPolicies(compiled))
  return {
    pipeline,
    analysis,
    blocklists,
    quarantine,
    knowledge,
    records,
    scanners,
    policyEditor,
    close,
  }
}
