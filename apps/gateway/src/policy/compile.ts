import type { AuthResults } from '../auth/authenticate.js'
import { domainAndParents, normaliseDomain } from '../blocklists/values.js'
import { gwErrors } from '../errors.js'
import { fileExtension } from '../pipeline/analysis/attachments.js'
import type { MessageAnalysis } from '../pipeline/analysis/types.js'
import { normaliseUrl } from '../pipeline/analysis/urls.js'
import { isExecutableFile } from '../scanners/builtin/attachment-check.js'
import type { Verdict } from '../scanners/contract.js'
import type { ScannerOutcome } from '../scanners/runner.js'
import type { Actions, Condition, PoliciesConfig, Policy } from './config.js'

/** Everything a rule's conditions may look at. */
export interface PolicyFacts {
  analysis: MessageAnalysis
  auth: AuthResults | null
  scans: readonly ScannerOutcome[]
  /** Every verdict raised (scanners, analysis, authentication). */
  verdicts: ReadonlySet<Verdict>
  envelopeSender: string
}

export type Predicate = (facts: PolicyFacts) => boolean

export interface CompiledRule {
  name: string
  test: Predicate
  actions: Actions
  final: boolean
}

export interface CompiledPolicy {
  name: string
  /** True when (sender, recipient) is a member of this policy. */
  matches(sender: string, recipient: string): boolean
  rules: CompiledRule[]
}

export interface CompileOptions {
  /** Executable extensions of the attachment check (for `attachment.executable`). */
  executableExtensions: readonly string[]
  /** Names of the configured quarantines (every `quarantine` action must name one). */
  quarantines: readonly string[]
}

const FINAL_ACTIONS = ['deliver', 'quarantine', 'drop', 'bounce', 'redirect'] as const

/**
 * Turns configured policies into closures, once at start: lists and groups are expanded,
 * domains normalised, globs turned into anchored regular expressions. Evaluating a message is
 * then a walk over prepared functions. References to unknown groups, lists or quarantines are
 * refused here with a coded error naming the policy.
 */
export function compilePolicies(
  config: PoliciesConfig,
  direction: 'incoming' | 'outgoing',
  defaults: Policy,
  options: CompileOptions,
): CompiledPolicy[] {
  const configured = direction === 'incoming' ? config.incoming : config.outgoing
  const seen = new Set<string>()
  const compiled: CompiledPolicy[] = []
  for (const policy of [...configured, defaults]) {
    if (seen.has(policy.name) && policy !== defaults) {
      throw gwErrors.POLICY_INVALID({
        policy: policy.name,
        reason: `another ${direction} policy has this name`,
      })
    }
    seen.add(policy.name)
    compiled.push(compilePolicy(policy, config, options))
  }
  return compiled
}

function compilePolicy(
  policy: Policy,
  config: PoliciesConfig,
  options: CompileOptions,
): CompiledPolicy {
  const fail = (reason: string): never => {
    throw gwErrors.POLICY_INVALID({ policy: policy.name, reason })
  }
  const senders = policy.senders ? compileMembers(policy.senders, config, fail) : null
  const recipients = policy.recipients ? compileMembers(policy.recipients, config, fail) : null
  const rules = policy.rules.map((rule) => {
    if (rule.then.quarantine !== undefined && !options.quarantines.includes(rule.then.quarantine)) {
      fail(
        `rule "${rule.name}" quarantines into "${rule.then.quarantine}", which is not configured (quarantines.*)`,
      )
    }
    return {
      name: rule.name,
      test: rule.when ? compileCondition(rule.when, config, options, fail) : () => true,
      actions: rule.then,
      final: FINAL_ACTIONS.some((k) => rule.then[k] !== undefined),
    }
  })
  return {
    name: policy.name,
    matches: (sender, recipient) =>
      (senders === null || senders(sender)) && (recipients === null || recipients(recipient)),
    rules,
  }
}

type Fail = (reason: string) => never

/** Member patterns → one test over a lower-cased address. */
function compileMembers(
  patterns: readonly string[],
  config: PoliciesConfig,
  fail: Fail,
): (address: string) => boolean {
  const addresses = new Set<string>()
  const domains = new Set<string>()
  const suffixes = new Set<string>()
  let anyone = false
  const add = (pattern: string, viaGroup: boolean): void => {
    const p = pattern.trim().toLowerCase()
    if (p === '*') {
      anyone = true
    } else if (p.startsWith('group:')) {
      if (viaGroup) fail(`groups cannot contain groups ("${pattern}")`)
      const members = config.groups[pattern.slice('group:'.length)]
      if (!members)
        fail(`group "${pattern.slice('group:'.length)}" is not defined (policies.groups)`)
      for (const member of members ?? []) add(member, true)
    } else if (p.includes('@') && !p.startsWith('@')) {
      addresses.add(p)
    } else {
      const raw = p.replace(/^@/, '')
      const subdomains = raw.startsWith('.')
      const domain = normaliseDomain(raw.replace(/^\./, ''))
      if (!domain) fail(`"${pattern}" is not an address, domain, group or *`)
      if (subdomains) suffixes.add(domain as string)
      else domains.add(domain as string)
    }
  }
  for (const pattern of patterns) add(pattern, false)
  return (address: string) => {
    if (anyone) return true
    const lower = address.toLowerCase()
    if (addresses.has(lower)) return true
    const domain = lower.slice(lower.lastIndexOf('@') + 1)
    if (domains.has(domain)) return true
    if (suffixes.size > 0)
      for (const d of domainAndParents(domain)) if (suffixes.has(d)) return true
    return false
  }
}

function expandList(values: readonly string[], config: PoliciesConfig, fail: Fail): string[] {
  const out: string[] = []
  for (const value of values) {
    if (value.startsWith('list:')) {
      const list = config.lists[value.slice('list:'.length)]
      if (!list) fail(`list "${value.slice('list:'.length)}" is not defined (policies.lists)`)
      out.push(...(list ?? []))
    } else out.push(value)
  }
  return out
}

function domainSet(values: readonly string[], config: PoliciesConfig, fail: Fail): Set<string> {
  const set = new Set<string>()
  for (const value of expandList(values, config, fail)) {
    const domain = normaliseDomain(value.replace(/^[@.]/, ''))
    if (!domain) fail(`"${value}" is not a domain name`)
    set.add(domain as string)
  }
  return set
}

function inDomains(host: string, set: ReadonlySet<string>): boolean {
  for (const d of domainAndParents(host)) if (set.has(d)) return true
  return false
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${escaped}$`, 'i')
}

function typeMatcher(types: readonly string[]): (type: string | null) => boolean {
  const exact = new Set(types.filter((t) => !t.endsWith('/*')).map((t) => t.toLowerCase()))
  const families = types.filter((t) => t.endsWith('/*')).map((t) => t.slice(0, -1).toLowerCase())
  return (type) => {
    if (!type) return false
    const lower = type.toLowerCase()
    return exact.has(lower) || families.some((f) => lower.startsWith(f))
  }
}

function compileCondition(
  condition: Condition,
  config: PoliciesConfig,
  options: CompileOptions,
  fail: Fail,
): Predicate {
  const tests: Predicate[] = []
  const c = condition as Condition & {
    all?: Condition[]
    any?: Condition[]
    not?: Condition
  }
  if (c.all) {
    const parts = c.all.map((x) => compileCondition(x, config, options, fail))
    tests.push((f) => parts.every((p) => p(f)))
  }
  if (c.any) {
    const parts = c.any.map((x) => compileCondition(x, config, options, fail))
    tests.push((f) => parts.some((p) => p(f)))
  }
  if (c.not) {
    const inner = compileCondition(c.not, config, options, fail)
    tests.push((f) => !inner(f))
  }
  if (c.verdict) {
    const wanted = c.verdict
    tests.push((f) => wanted.some((v) => f.verdicts.has(v)))
  }
  if (c.scanner) {
    const { id, result } = c.scanner
    tests.push((f) => f.scans.some((s) => s.scanner === id && result.includes(s.result.status)))
  }
  if (c.score) {
    const { scanner, gte, lt } = c.score
    tests.push((f) => {
      const score = f.scans.find((s) => s.scanner === scanner)?.result.score
      if (score === undefined) return false
      return (gte === undefined || score >= gte) && (lt === undefined || score < lt)
    })
  }
  if (c.symbol) {
    const names = new Set(c.symbol.map((s) => s.toLowerCase()))
    tests.push((f) =>
      f.scans.some((s) =>
        (s.result.findings ?? []).some(
          (name) =>
            names.has(name.toLowerCase()) ||
            names.has(name.toLowerCase().replace(/\.unofficial$/, '')),
        ),
      ),
    )
  }
  for (const method of ['spf', 'dkim', 'dmarc', 'arc'] as const) {
    const wanted = c[method]
    if (wanted) tests.push((f) => f.auth !== null && wanted.includes(f.auth[method].result))
  }
  if (c.dmarcPolicy) {
    const wanted = c.dmarcPolicy
    tests.push(
      (f) =>
        f.auth !== null && f.auth.dmarc.policy !== null && wanted.includes(f.auth.dmarc.policy),
    )
  }
  if (c.attachment) tests.push(compileAttachmentCondition(c.attachment, options))
  if (c.urlDomain) {
    const set = domainSet(c.urlDomain, config, fail)
    tests.push((f) => f.analysis.urls.some((u) => inDomains(u.host, set)))
  }
  if (c.url) {
    const prefixes = expandList(c.url, config, fail).map(
      (u) => normaliseUrl(u)?.url ?? u.toLowerCase(),
    )
    tests.push((f) => f.analysis.urls.some((u) => prefixes.some((p) => u.url.startsWith(p))))
  }
  if (c.senderDomain) {
    const set = domainSet(c.senderDomain, config, fail)
    tests.push((f) => {
      const address = f.analysis.headers.from[0]?.address || f.envelopeSender
      const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase()
      return domain !== '' && inDomains(domain, set)
    })
  }
  if (c.header) {
    const name = c.header.name.toLowerCase()
    const contains = c.header.contains?.toLowerCase()
    const exists = c.header.exists
    tests.push((f) => {
      const values = f.analysis.headers.list
        .filter((h) => h.name.toLowerCase() === name)
        .map((h) => h.value)
      if (exists !== undefined && values.length > 0 !== exists) return false
      if (contains !== undefined) return values.some((v) => v.toLowerCase().includes(contains))
      return exists !== undefined || values.length > 0
    })
  }
  if (c.size) {
    const { gt, lt } = c.size
    tests.push(
      (f) =>
        (gt === undefined || f.analysis.size > gt) && (lt === undefined || f.analysis.size < lt),
    )
  }
  if (c.malformed !== undefined) {
    const wanted = c.malformed
    tests.push((f) => (f.analysis.malformed !== null) === wanted)
  }
  if (c.defect) {
    const wanted = new Set<string>(c.defect)
    tests.push((f) => f.analysis.defects.some((d) => wanted.has(d.code)))
  }
  if (tests.length === 0) return () => true
  if (tests.length === 1) return tests[0] as Predicate
  return (f) => tests.every((t) => t(f))
}

function compileAttachmentCondition(
  condition: NonNullable<Condition['attachment']>,
  options: CompileOptions,
): Predicate {
  const extensions = condition.extension
    ? new Set(condition.extension.map((e) => e.toLowerCase().replace(/^\./, '')))
    : null
  const types = condition.type ? typeMatcher(condition.type) : null
  const names = condition.name ? condition.name.map(globToRegExp) : null
  const executableExtensions = new Set(options.executableExtensions)
  interface File {
    filename: string | null
    declaredType: string | null
    sniffedType: string | null
    encrypted: boolean
    macros: boolean
  }
  const fileMatches = (file: File): boolean => {
    if (extensions) {
      const ext = fileExtension(file.filename)
      if (!ext || !extensions.has(ext)) return false
    }
    if (types && !types(file.declaredType) && !types(file.sniffedType)) return false
    if (names && !(file.filename && names.some((r) => r.test(file.filename as string))))
      return false
    if (condition.executable !== undefined) {
      const executable = isExecutableFile(file.filename, file.sniffedType, executableExtensions)
      if (executable !== condition.executable) return false
    }
    if (condition.encrypted !== undefined && file.encrypted !== condition.encrypted) return false
    if (condition.macros !== undefined && file.macros !== condition.macros) return false
    return true
  }
  return (facts) => {
    for (const a of facts.analysis.attachments) {
      if (condition.inArchive !== true) {
        const top: File = {
          filename: a.filename,
          declaredType: a.declaredType,
          sniffedType: a.sniffedType,
          encrypted: a.encrypted,
          macros: a.hasMacros,
        }
        if (fileMatches(top)) return true
      }
      if (condition.inArchive !== false) {
        for (const e of a.entries) {
          const entry: File = {
            filename: e.name,
            declaredType: null,
            sniffedType: e.sniffedType,
            encrypted: e.encrypted,
            macros: false,
          }
          if (fileMatches(entry)) return true
        }
      }
    }
    return false
  }
}
