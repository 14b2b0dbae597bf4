import type { z } from 'zod'
import { describeError, type Clock, type Logger } from '@postern/core'
import type { AuditLog, MailPoliciesRepo } from '@postern/store'
import { gwErrors } from '../errors.js'
import type { PipelineConfig } from '../pipeline/config.js'
import type { ContentPipelineOptions } from '../pipeline/content-pipeline.js'
import type { RequestContext } from '../remediation/context.js'
import { policiesConfigSchema } from './config.js'

/** What the console edits: the `policies` section; `notifyFrom` stays in the configuration. */
export const editablePoliciesSchema = policiesConfigSchema.omit({ notifyFrom: true })

export type CompiledPolicies = ContentPipelineOptions['policies']

export interface PolicyDocumentView {
  /** `configuration` until someone saves policies in the console, `console` after. */
  source: 'configuration' | 'console'
  document: unknown
  updatedAt: number | null
  updatedBy: string | null
  /** Quarantines a rule may name (configured in `pipeline.quarantine.quarantines`). */
  quarantines: string[]
}

export interface PolicyEditorDeps {
  config: PipelineConfig
  repo: MailPoliciesRepo
  audit: AuditLog | null
  clock: Clock
  logger: Logger
  /** Compiles a configuration's policies (`compileAllPolicies`); throws POLICY_INVALID. */
  compile(config: PipelineConfig): CompiledPolicies
}

/** One line per zod issue, `path: problem`, so that the console can show where to look. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map(
      (issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(document)'}: ${issue.message}`,
    )
    .join('; ')
}

/**
 * Mail policies read and edited through the API (the console's Mail Policies page). A saved
 * document is validated with the configuration's own schema and compiled before it is stored,
 * so a policy that would fail at start is refused with the reason; on success the running
 * pipeline switches to it at once (messages already in evaluation keep the old set).
 */
export class PolicyEditor {
  private current: PolicyDocumentView
  private applyTo: ((policies: CompiledPolicies) => void) | null = null

  constructor(private readonly deps: PolicyEditorDeps) {
    this.current = this.configurationView()
  }

  /**
   * The policies the pipeline starts with: the stored document while it still compiles
   * against this configuration (a quarantine it names may have been removed since), the
   * configuration's otherwise.
   */
  async load(): Promise<CompiledPolicies> {
    const stored = await this.deps.repo.get()
    if (stored) {
      try {
        const document: unknown = JSON.parse(stored.document)
        const compiled = this.compile(document)
        this.current = {
          ...this.configurationView(),
          source: 'console',
          document,
          updatedAt: stored.updatedAt,
          updatedBy: stored.updatedBy,
        }
        return compiled
      } catch (err) {
        this.deps.logger.warn(
          { event: 'POLICY_DOCUMENT_IGNORED', err: describeError(err) },
          'the mail policies saved in the console no longer compile: using the configuration’s',
        )
      }
    }
    return this.deps.compile(this.deps.config)
  }

  /** Where saved policies go (the running content pipeline). */
  attach(apply: (policies: CompiledPolicies) => void): void {
    this.applyTo = apply
  }

  view(): PolicyDocumentView {
    return this.current
  }

  async save(document: unknown, context: RequestContext): Promise<PolicyDocumentView> {
    let compiled: CompiledPolicies
    try {
      compiled = this.compile(document)
    } catch (err) {
      await this.record(context, 'policies.update', 'failure', { reason: describeError(err) })
      throw err
    }
    const updatedAt = this.deps.clock.now()
    await this.deps.repo.put({
      document: JSON.stringify(document),
      updatedAt,
      updatedBy: context.actor.id,
    })
    this.applyTo?.(compiled)
    this.current = {
      ...this.configurationView(),
      source: 'console',
      document,
      updatedAt,
      updatedBy: context.actor.id,
    }
    await this.record(context, 'policies.update', 'success', {
      incoming: compiled.incoming.map((p) => p.name),
      outgoing: compiled.outgoing.map((p) => p.name),
    })
    return this.current
  }

  /** Drops the console's document: the configuration's policies apply again. */
  async reset(context: RequestContext): Promise<PolicyDocumentView> {
    await this.deps.repo.remove()
    this.applyTo?.(this.deps.compile(this.deps.config))
    this.current = this.configurationView()
    await this.record(context, 'policies.reset', 'success', {})
    return this.current
  }

  private compile(document: unknown): CompiledPolicies {
    const parsed = editablePoliciesSchema.safeParse(document)
    if (!parsed.success) {
      throw gwErrors.POLICY_DOCUMENT_INVALID({ reason: describeIssues(parsed.error) })
    }
    const { config } = this.deps
    try {
      return this.deps.compile({
        ...config,
        policies: { ...parsed.data, notifyFrom: config.policies.notifyFrom },
      })
    } catch (err) {
      if (gwErrors.POLICY_INVALID.is(err)) {
        throw gwErrors.POLICY_DOCUMENT_INVALID({ reason: err.message }, { cause: err })
      }
      throw err
    }
  }

  private configurationView(): PolicyDocumentView {
    const { notifyFrom: _notifyFrom, ...document } = this.deps.config.policies
    return {
      source: 'configuration',
      document,
      updatedAt: null,
      updatedBy: null,
      quarantines: Object.keys(this.deps.config.quarantine.quarantines),
    }
  }

  private async record(
    context: RequestContext,
    action: string,
    outcome: 'success' | 'failure',
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.deps.audit?.record({
      actor: context.actor,
      source: context.source,
      remoteIp: context.remoteIp,
      action,
      target: { type: 'mail-policies', id: 'current' },
      outcome,
      details,
    })
  }
}
