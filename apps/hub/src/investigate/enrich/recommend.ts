import { registrableDomainOf, type Observable } from '@postern/ctim'
import type { ModuleIdentity } from './fan-out.js'

/** CTIM dispositions that call for a response (1 Clean, 4 Common, 5 Unknown do not). */
const MALICIOUS = 2
const SUSPICIOUS = 3

/** What the modules said about an observable: its worst verdict, and who said it. */
export interface VerdictEvidence {
  disposition: typeof MALICIOUS | typeof SUSPICIOUS
  modules: string[]
}

/** Evidence gathered by one deliberate and one observe fan-out. */
export interface Evidence {
  verdicts: Map<string, VerdictEvidence>
  /** Message-IDs of the messages the email module's gateways saw carrying each observable. */
  messages: Map<string, Set<string>>
}

/** A recommended step: an email module action on an observable, or adding to the active case. */
export interface Recommendation {
  /** The email module instance that runs it; absent for `add-to-case` (the hub does it). */
  module?: ModuleIdentity
  actionId: 'forward' | 'forward-and-delete' | 'block' | 'block-user' | 'add-to-case'
  observable: Observable
  /** 1 runs first. */
  priority: number
  reason: string
}

export function observableKey(observable: Observable): string {
  return `${observable.type}|${observable.value.trim().toLowerCase()}`
}

/** Records a verdict, keeping the worst disposition (lower is worse) and every module giving it. */
export function addVerdict(
  evidence: Evidence,
  observable: Observable,
  disposition: number,
  module: string,
): void {
  if (disposition !== MALICIOUS && disposition !== SUSPICIOUS) return
  const key = observableKey(observable)
  const current = evidence.verdicts.get(key)
  if (!current || disposition < current.disposition) {
    evidence.verdicts.set(key, { disposition, modules: [module] })
  } else if (disposition === current.disposition && !current.modules.includes(module)) {
    current.modules.push(module)
  }
}

const BLOCKABLE = new Set(['email', 'domain', 'url', 'sha256', 'sha1', 'md5', 'ip', 'ipv6'])
const MESSAGE_TYPES = new Set(['email_messageid', 'cisco_mid'])

/** The domain to block for a URL: its registrable domain (login.evil.example → evil.example). */
function domainOfUrl(url: string): string | null {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '')
    if (host === '' || /^[\d.]+$/.test(host) || host.includes(':')) return null
    return registrableDomainOf(host) ?? host
  } catch {
    return null
  }
}

/**
 * The response the seed (§1) recommends once verdicts are in: for a malicious observable,
 * forward and delete every message carrying it (suspicious: forward a copy for analysis),
 * block it — for a URL, its domain — on every gateway, and add it to the active case. Ordered
 * by priority: mail out of mailboxes first, then blocks, then the case.
 *
 * @param blockUser observables the gateways offer `block-user` for (internal senders)
 */
export function recommend(
  observables: readonly Observable[],
  evidence: Evidence,
  emailModules: readonly ModuleIdentity[],
  blockUser: ReadonlySet<string>,
): Recommendation[] {
  const out: Recommendation[] = []
  const seen = new Set<string>()
  const push = (rec: Recommendation) => {
    const key = `${rec.module?.module_instance_id ?? 'hub'}|${rec.actionId}|${observableKey(rec.observable)}`
    if (seen.has(key)) return
    seen.add(key)
    out.push(rec)
  }
  for (const observable of observables) {
    const verdict = evidence.verdicts.get(observableKey(observable))
    if (!verdict) continue
    const malicious = verdict.disposition === MALICIOUS
    const label = malicious ? 'Malicious' : 'Suspicious'
    const because = `${label} verdict for ${observable.type} ${observable.value} from ${verdict.modules.join(', ')}`
    for (const module of emailModules) {
      const messageIds = MESSAGE_TYPES.has(observable.type)
        ? [observable.value]
        : [...(evidence.messages.get(observableKey(observable)) ?? [])]
      for (const messageId of messageIds) {
        push({
          module,
          actionId: malicious ? 'forward-and-delete' : 'forward',
          observable: MESSAGE_TYPES.has(observable.type)
            ? observable
            : { type: 'email_messageid', value: messageId },
          priority: 1,
          reason: malicious
            ? `${because}: remove the message from every mailbox it reached`
            : `${because}: send a copy to the SOC for analysis`,
        })
      }
      if (!malicious) continue
      if (observable.type === 'url') {
        const domain = domainOfUrl(observable.value)
        if (domain) {
          push({
            module,
            actionId: 'block',
            observable: { type: 'domain', value: domain },
            priority: 2,
            reason: `${because}: refuse mail from and links to ${domain} on every gateway`,
          })
        }
      } else if (BLOCKABLE.has(observable.type)) {
        const internal = blockUser.has(observableKey(observable))
        push({
          module,
          actionId: internal ? 'block-user' : 'block',
          observable,
          priority: 2,
          reason: internal
            ? `${because}: stop the account's outgoing mail (compromised?)`
            : `${because}: block it on every gateway`,
        })
      }
    }
    push({
      actionId: 'add-to-case',
      observable,
      priority: 3,
      reason: `${because}: keep it with the investigation`,
    })
  }
  return out.sort((a, b) => a.priority - b.priority)
}
