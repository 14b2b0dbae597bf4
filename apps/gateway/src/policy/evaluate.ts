import type { Actions } from './config.js'
import type { CompiledPolicy, PolicyFacts } from './compile.js'

export type FinalAction =
  | { kind: 'deliver' }
  | { kind: 'quarantine'; quarantine: string }
  | { kind: 'drop' }
  | { kind: 'bounce'; status: string; message: string | null }
  | { kind: 'redirect'; to: string[] }

export interface RuleMatch {
  rule: string
  actions: Actions
}

export interface NotifyRequest {
  rule: string
  to: string[]
  subject: string | null
}

/** What one policy decided for the recipients it applies to. */
export interface PolicyDecision {
  policy: string
  /** Indexes into the envelope recipients. */
  recipientIndexes: number[]
  matched: RuleMatch[]
  final: FinalAction
  /** The rule that chose the final action; null when no rule did (deliver by default). */
  finalRule: string | null
  tagSubject: string[]
  addHeaders: { name: string; value: string }[]
  stripHeaders: string[]
  notify: NotifyRequest[]
  blockSender: { rule: string; reason: string } | null
}

/**
 * Applies mail policies to a message. Each recipient belongs to the first policy whose members
 * include (sender, recipient) — the last policy is the default and takes everyone — so
 * recipients may split between policies. For each policy the rules run in order: a rule whose
 * conditions hold adds its actions, and its final action (if any) ends the evaluation. With no
 * final action the message is delivered, with whatever modifications the rules added.
 */
export function evaluatePolicies(
  policies: readonly CompiledPolicy[],
  sender: string,
  recipients: readonly string[],
  facts: PolicyFacts,
): PolicyDecision[] {
  const byPolicy = new Map<CompiledPolicy, number[]>()
  recipients.forEach((recipient, index) => {
    const policy =
      policies.find((p) => p.matches(sender, recipient)) ?? policies[policies.length - 1]
    if (!policy) return
    const list = byPolicy.get(policy)
    if (list) list.push(index)
    else byPolicy.set(policy, [index])
  })
  return [...byPolicy.entries()].map(([policy, indexes]) => decide(policy, indexes, facts))
}

function decide(
  policy: CompiledPolicy,
  recipientIndexes: number[],
  facts: PolicyFacts,
): PolicyDecision {
  const decision: PolicyDecision = {
    policy: policy.name,
    recipientIndexes,
    matched: [],
    final: { kind: 'deliver' },
    finalRule: null,
    tagSubject: [],
    addHeaders: [],
    stripHeaders: [],
    notify: [],
    blockSender: null,
  }
  for (const rule of policy.rules) {
    if (!rule.test(facts)) continue
    const a = rule.actions
    decision.matched.push({ rule: rule.name, actions: a })
    if (a.tagSubject !== undefined && !decision.tagSubject.includes(a.tagSubject)) {
      decision.tagSubject.push(a.tagSubject)
    }
    if (a.addHeaders) decision.addHeaders.push(...a.addHeaders)
    if (a.stripHeaders) decision.stripHeaders.push(...a.stripHeaders)
    if (a.notify) {
      decision.notify.push({ rule: rule.name, to: a.notify.to, subject: a.notify.subject ?? null })
    }
    if (a.blockSender !== undefined && decision.blockSender === null) {
      decision.blockSender = {
        rule: rule.name,
        reason:
          a.blockSender === true
            ? `policy ${policy.name}, rule ${rule.name}`
            : a.blockSender.reason,
      }
    }
    const final = finalOf(a)
    if (final) {
      decision.final = final
      decision.finalRule = rule.name
      break
    }
  }
  return decision
}

function finalOf(a: Actions): FinalAction | null {
  if (a.quarantine !== undefined) return { kind: 'quarantine', quarantine: a.quarantine }
  if (a.drop) return { kind: 'drop' }
  if (a.bounce !== undefined) {
    return a.bounce === true
      ? { kind: 'bounce', status: '5.7.1', message: null }
      : { kind: 'bounce', status: a.bounce.status, message: a.bounce.message ?? null }
  }
  if (a.redirect) return { kind: 'redirect', to: [...a.redirect] }
  if (a.deliver) return { kind: 'deliver' }
  return null
}
