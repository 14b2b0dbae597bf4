import { describeError, silentLogger, systemClock, type Clock, type Logger } from '@postern/core'
import type { AuthResults } from '../auth/authenticate.js'
import type { BlocklistService } from '../blocklists/blocklist-service.js'
import { gwErrors } from '../errors.js'
import type { CompiledPolicy, PolicyFacts } from '../policy/compile.js'
import { evaluatePolicies, type PolicyDecision } from '../policy/evaluate.js'
import { hasChanges, rewriteHeaders, type HeaderChanges } from '../policy/rewrite.js'
import type { QuarantineService } from '../quarantine/quarantine-service.js'
import type { Direction, ScanContext, Scanner, Verdict } from '../scanners/contract.js'
import { runScanners, type ScannerOutcome } from '../scanners/runner.js'
import type { AnalysisPool } from './analysis/analysis-pool.js'
import type { MessageAnalysis } from './analysis/types.js'
import { PIPELINE_EVENTS, type TimelineEvent } from './events.js'
import type { PipelineObserver } from './metrics.js'
import { buildNotification, type MailInjector } from './notifier.js'
import { analysisRows, observablesOf, type ExtraRows, type ObservableRow } from './records.js'

/** A message handed to the pipeline after it is safely in the spool. */
export interface PipelineMessage {
  mid: number
  receivedAt: number
  direction: Direction
  envelope: { mailFrom: string; recipients: readonly string[] }
  client: { ip: string; rdns: string | null; helo: string | null; authUser: string | null }
  raw: Buffer
}

/** What happens to one envelope recipient (the gateway core's RecipientOutcome). */
export type RecipientOutcome =
  | { action: 'deliver'; variant?: number; reason?: string }
  | { action: 'redirect'; to: readonly string[]; variant?: number; reason?: string }
  | { action: 'quarantine'; quarantine: string; reason?: string }
  | { action: 'drop'; reason: string }
  | { action: 'bounce'; reason: string; status?: string }

export interface PipelineResult {
  recipients: RecipientOutcome[]
  /** Rewritten copies referenced by `variant` (tagged subject, added headers …). */
  variants: Buffer[]
  events: TimelineEvent[]
  observables: ObservableRow[]
  /** Rows of the pipeline's own tables, written with the tracking batch. */
  rows: ExtraRows[]
  /** Summary for logs and tests. */
  verdicts: Verdict[]
  analysis: MessageAnalysis
  auth: AuthResults | null
  scans: ScannerOutcome[]
  decisions: PolicyDecision[]
}

export interface ContentPipelineOptions {
  hostname: string
  analysis: AnalysisPool
  scanners: readonly Scanner[]
  policies: { incoming: readonly CompiledPolicy[]; outgoing: readonly CompiledPolicy[] }
  quarantine: QuarantineService
  blocklists: BlocklistService
  authentication: { enabled: boolean; addHeader: boolean; authservId: string }
  notifyFrom: string
  injector?: MailInjector | null
  observer?: PipelineObserver | null
  clock?: Clock
  logger?: Logger
}

/**
 * The content pipeline: analysis (worker threads), scanners, mail policies, and the actions
 * they decide — quarantine, drop, bounce, redirect, deliver with header changes, notify, block
 * the sender. Returns one outcome per envelope recipient plus everything tracking records:
 * timeline events, observables, and the analysis rows. A message is never lost here: a failed
 * analysis is `malformed` (quarantined by default), a failing scanner follows its onFailure.
 */
export class ContentPipeline {
  private readonly clock: Clock
  private readonly logger: Logger

  private policies: ContentPipelineOptions['policies']

  constructor(private readonly options: ContentPipelineOptions) {
    this.policies = options.policies
    this.clock = options.clock ?? systemClock
    this.logger = options.logger ?? silentLogger()
  }

  /** Switches to newly saved policies; messages already being evaluated keep the old set. */
  setPolicies(policies: ContentPipelineOptions['policies']): void {
    this.policies = policies
  }

  async process(message: PipelineMessage, signal: AbortSignal): Promise<PipelineResult> {
    const { mid } = message
    const log = this.logger.child({ mid })
    const { authentication, observer } = this.options
    const analysisStarted = performance.now()
    const { analysis, auth } = await this.options.analysis.analyse({
      raw: message.raw,
      auth: authentication.enabled
        ? { ip: message.client.ip, helo: message.client.helo, sender: message.envelope.mailFrom }
        : null,
    })
    const context: Omit<ScanContext, 'signal'> = {
      mid,
      direction: message.direction,
      envelope: message.envelope,
      client: message.client,
      raw: message.raw,
      analysis,
      auth,
    }
    observer?.analysed(
      (performance.now() - analysisStarted) / 1000,
      analysis.malformed?.reason ?? null,
    )
    const scans = await runScanners(this.options.scanners, context, signal)
    for (const scan of scans)
      observer?.scanned(scan.scanner, scan.result.status, scan.durationMs / 1000)
    const events: TimelineEvent[] = [analysedEvent(mid, this.clock.now(), analysis)]
    if (auth) events.push(authEvent(mid, this.clock.now(), auth))
    for (const scan of scans) events.push(scanEvent(mid, this.clock.now(), scan))

    const deferring = scans.find((s) => s.failure === 'tempfail')
    if (deferring) {
      observer?.decided([], deferring.scanner)
      events.push({
        at: this.clock.now(),
        event: PIPELINE_EVENTS.SCAN_DEFERRED,
        mid,
        details: { scanner: deferring.scanner, error: deferring.result.error ?? null },
      })
      throw Object.assign(
        gwErrors.SCANNER_DEFERRED({
          mid,
          scanner: deferring.scanner,
          reason: deferring.result.error?.message ?? 'error',
        }),
        { events },
      )
    }

    const verdicts = collectVerdicts(analysis, auth, scans)
    observer?.decided([...verdicts], null)
    const facts: PolicyFacts = {
      analysis,
      auth,
      scans,
      verdicts,
      envelopeSender: message.envelope.mailFrom,
    }
    const policies =
      message.direction === 'outgoing' ? this.policies.outgoing : this.policies.incoming
    const failedInto = scans.find((s) => s.failure === 'quarantine')
    const decisions = failedInto
      ? [scannerFailureDecision(failedInto, message.envelope.recipients.length)]
      : evaluatePolicies(policies, message.envelope.mailFrom, message.envelope.recipients, facts)

    const recipients: RecipientOutcome[] = message.envelope.recipients.map(() => ({
      action: 'deliver',
    }))
    const variants: Buffer[] = []
    const variantKeys = new Map<string, number>()
    const prepend = authentication.enabled && authentication.addHeader && auth ? auth.headers : ''
    let quarantined = false

    for (const decision of decisions) {
      const addresses = decision.recipientIndexes.map(
        (i) => message.envelope.recipients[i] as string,
      )
      events.push({
        at: this.clock.now(),
        event: PIPELINE_EVENTS.POLICY_MATCHED,
        mid,
        details: {
          direction: message.direction,
          policy: decision.policy,
          rules: decision.matched.map((m) => m.rule),
          recipients: addresses,
        },
      })
      const reason = decision.finalRule
        ? `policy ${decision.policy}, rule ${decision.finalRule}`
        : `policy ${decision.policy}`
      let outcome: RecipientOutcome
      switch (decision.final.kind) {
        case 'quarantine': {
          const held = await this.options.quarantine.hold({
            mid,
            quarantine: decision.final.quarantine,
            reason,
            direction: message.direction,
            envelopeSender: message.envelope.mailFrom,
            recipients: addresses,
            subject: analysis.headers.subject,
            headerFrom: analysis.headers.from[0]?.address ?? null,
            content: message.raw,
          })
          quarantined = true
          events.push({
            at: this.clock.now(),
            event: PIPELINE_EVENTS.QUARANTINED,
            mid,
            details: {
              quarantine: decision.final.quarantine,
              itemId: held.id,
              recipients: addresses,
              reason,
            },
          })
          outcome = { action: 'quarantine', quarantine: decision.final.quarantine, reason }
          break
        }
        case 'drop':
          outcome = { action: 'drop', reason }
          break
        case 'bounce':
          outcome = {
            action: 'bounce',
            reason: decision.final.message ?? `Message refused by ${reason}`,
            status: decision.final.status,
          }
          break
        case 'redirect':
        case 'deliver': {
          const variant = this.variantFor(
            decision,
            message.raw,
            analysis,
            prepend,
            variants,
            variantKeys,
          )
          outcome =
            decision.final.kind === 'redirect'
              ? {
                  action: 'redirect',
                  to: decision.final.to,
                  reason,
                  ...(variant === undefined ? {} : { variant }),
                }
              : {
                  action: 'deliver',
                  ...(variant === undefined ? {} : { variant }),
                  ...(decision.finalRule ? { reason } : {}),
                }
          break
        }
      }
      for (const index of decision.recipientIndexes) recipients[index] = outcome
      for (const address of addresses) {
        events.push({
          at: this.clock.now(),
          event: PIPELINE_EVENTS.ACTION,
          mid,
          recipient: address,
          details: {
            action: outcome.action,
            policy: decision.policy,
            rule: decision.finalRule,
            ...(decision.final.kind === 'quarantine'
              ? { quarantine: decision.final.quarantine }
              : {}),
            ...(decision.final.kind === 'redirect' ? { to: decision.final.to } : {}),
            ...(decision.tagSubject.length > 0 ? { tagSubject: decision.tagSubject } : {}),
            ...(decision.addHeaders.length > 0
              ? { addHeaders: decision.addHeaders.map((h) => h.name) }
              : {}),
            ...(decision.stripHeaders.length > 0 ? { stripHeaders: decision.stripHeaders } : {}),
          },
        })
      }
      if (decision.blockSender) events.push(...(await this.blockSender(message, decision, log)))
      for (const request of decision.notify) {
        events.push(
          ...(await this.notify(
            message,
            analysis,
            verdicts,
            decision,
            request,
            outcome.action,
            log,
          )),
        )
      }
    }

    const observables = observablesOf(message, analysis)
    const rows = analysisRows({
      mid,
      receivedAt: message.receivedAt,
      at: this.clock.now(),
      direction: message.direction,
      analysis,
      auth,
      scans,
      verdicts: [...verdicts],
      decisions,
      quarantined,
    })
    return {
      recipients,
      variants,
      events,
      observables,
      rows,
      verdicts: [...verdicts],
      analysis,
      auth,
      scans,
      decisions,
    }
  }

  /** Index of the rewritten copy for a decision (shared by decisions with the same changes). */
  private variantFor(
    decision: PolicyDecision,
    raw: Buffer,
    analysis: MessageAnalysis,
    prepend: string,
    variants: Buffer[],
    keys: Map<string, number>,
  ): number | undefined {
    const changes: HeaderChanges = {
      prepend,
      tagSubject: decision.tagSubject,
      addHeaders: decision.addHeaders,
      stripHeaders: decision.stripHeaders,
      authservId: this.options.authentication.enabled
        ? this.options.authentication.authservId
        : null,
    }
    if (!hasChanges(changes) || analysis.headerBytes === 0) return undefined
    const key = JSON.stringify([changes.tagSubject, changes.addHeaders, changes.stripHeaders])
    const existing = keys.get(key)
    if (existing !== undefined) return existing
    variants.push(rewriteHeaders(raw, analysis.headerBytes, changes))
    keys.set(key, variants.length - 1)
    return variants.length - 1
  }

  private async blockSender(
    message: PipelineMessage,
    decision: PolicyDecision,
    log: Logger,
  ): Promise<TimelineEvent[]> {
    const sender = message.envelope.mailFrom
    const rule = decision.blockSender
    if (!rule || sender === '') return []
    const actor = {
      source: 'policy' as const,
      id: `policy:${message.direction}/${decision.policy}/${rule.rule}`,
    }
    try {
      if (message.direction === 'outgoing') {
        const { created } = await this.options.blocklists.blockSender(
          sender,
          rule.reason,
          actor,
          message.mid,
        )
        log.warn({ event: 'SENDER_BLOCKED', sender, created }, 'outgoing sender blocked by policy')
        return [
          {
            at: this.clock.now(),
            event: PIPELINE_EVENTS.SENDER_BLOCKED,
            mid: message.mid,
            details: {
              sender,
              reason: rule.reason,
              policy: decision.policy,
              rule: rule.rule,
              alreadyBlocked: !created,
            },
          },
        ]
      }
      const entry = await this.options.blocklists
        .add({ kind: 'sender_address', value: sender, reason: rule.reason }, actor)
        .catch((err: unknown) => {
          if (gwErrors.BLOCKLIST_ENTRY_EXISTS.is(err)) return null
          throw err
        })
      return [
        {
          at: this.clock.now(),
          event: PIPELINE_EVENTS.SENDER_BLOCKLISTED,
          mid: message.mid,
          details: {
            sender,
            entryId: entry?.id ?? null,
            reason: rule.reason,
            policy: decision.policy,
            rule: rule.rule,
          },
        },
      ]
    } catch (err) {
      // The message itself is already decided; failing to block must not undo that decision.
      log.error(
        { event: 'SENDER_BLOCK_FAILED', err: describeError(err) },
        'could not block the sender',
      )
      return []
    }
  }

  private async notify(
    message: PipelineMessage,
    analysis: MessageAnalysis,
    verdicts: ReadonlySet<Verdict>,
    decision: PolicyDecision,
    request: PolicyDecision['notify'][number],
    action: string,
    log: Logger,
  ): Promise<TimelineEvent[]> {
    const recipients = decision.recipientIndexes.map(
      (i) => message.envelope.recipients[i] as string,
    )
    const to = request.to.flatMap((t) =>
      t === 'sender'
        ? message.envelope.mailFrom
          ? [message.envelope.mailFrom]
          : []
        : t === 'recipients'
          ? recipients
          : [t],
    )
    if (to.length === 0) return []
    try {
      if (!this.options.injector) throw gwErrors.NOTIFICATION_UNAVAILABLE()
      const raw = await buildNotification({
        hostname: this.options.hostname,
        from: this.options.notifyFrom,
        to,
        subject: request.subject,
        mid: message.mid,
        direction: message.direction,
        envelopeSender: message.envelope.mailFrom,
        recipients,
        messageSubject: analysis.headers.subject,
        verdicts: [...verdicts],
        policy: decision.policy,
        rule: request.rule,
        action,
      })
      // RFC 3464 §2.1: messages the gateway generates itself use the null reverse-path, so
      // that they can never bounce back into a loop.
      await this.options.injector.inject({
        from: '',
        to,
        raw,
        relatedMid: message.mid,
        reason: `notification for MID ${message.mid}`,
      })
      return [
        {
          at: this.clock.now(),
          event: PIPELINE_EVENTS.NOTIFIED,
          mid: message.mid,
          details: { to, rule: request.rule, policy: decision.policy },
        },
      ]
    } catch (err) {
      log.error(
        { event: 'NOTIFICATION_FAILED', err: describeError(err) },
        'policy notification not sent',
      )
      return []
    }
  }
}

function collectVerdicts(
  analysis: MessageAnalysis,
  auth: AuthResults | null,
  scans: readonly ScannerOutcome[],
): Set<Verdict> {
  const verdicts = new Set<Verdict>()
  for (const scan of scans) for (const v of scan.result.verdicts) verdicts.add(v)
  if (analysis.malformed) verdicts.add('malformed')
  if (auth?.dmarc.result === 'fail') verdicts.add('auth-fail')
  return verdicts
}

function scannerFailureDecision(scan: ScannerOutcome, recipientCount: number): PolicyDecision {
  return {
    policy: `scanner-failure:${scan.scanner}`,
    recipientIndexes: Array.from({ length: recipientCount }, (_, i) => i),
    matched: [],
    final: { kind: 'quarantine', quarantine: scan.failureQuarantine ?? 'policy' },
    finalRule: 'onFailure',
    tagSubject: [],
    addHeaders: [],
    stripHeaders: [],
    notify: [],
    blockSender: null,
  }
}

function analysedEvent(mid: number, at: number, analysis: MessageAnalysis): TimelineEvent {
  return {
    at,
    event: PIPELINE_EVENTS.ANALYSED,
    mid,
    details: {
      size: analysis.size,
      parts: analysis.parts.length,
      urls: analysis.urlCount,
      attachments: analysis.attachments.length,
      ...(analysis.malformed ? { malformed: analysis.malformed } : {}),
      ...(analysis.defects.length > 0
        ? { defects: analysis.defects.slice(0, 20).map((d) => d.code) }
        : {}),
    },
  }
}

function authEvent(mid: number, at: number, auth: AuthResults): TimelineEvent {
  return {
    at,
    event: PIPELINE_EVENTS.AUTHENTICATED,
    mid,
    details: {
      spf: auth.spf.result,
      spfDomain: auth.spf.domain,
      dkim: auth.dkim.result,
      dkimSignatures: auth.dkim.signatures.map((s) => ({
        domain: s.domain,
        selector: s.selector,
        result: s.result,
        aligned: s.aligned,
      })),
      dmarc: auth.dmarc.result,
      dmarcPolicy: auth.dmarc.policy,
      dmarcDomain: auth.dmarc.domain,
      arc: auth.arc.result,
      ...(auth.timedOut ? { timedOut: true } : {}),
    },
  }
}

function scanEvent(mid: number, at: number, scan: ScannerOutcome): TimelineEvent {
  const { result } = scan
  return {
    at,
    event: PIPELINE_EVENTS.SCANNED,
    mid,
    details: {
      scanner: scan.scanner,
      status: result.status,
      ms: scan.durationMs,
      ...(result.verdicts.length > 0 ? { verdicts: result.verdicts } : {}),
      ...(result.score === undefined ? {} : { score: result.score }),
      ...(result.findings && result.findings.length > 0
        ? { findings: result.findings.slice(0, 20) }
        : {}),
      ...(result.details ? { details: result.details } : {}),
      ...(result.error ? { error: result.error } : {}),
      ...(scan.failure ? { onFailure: scan.failure } : {}),
    },
  }
}
