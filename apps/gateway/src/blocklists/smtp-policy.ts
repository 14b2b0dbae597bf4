import {
  CONTINUE,
  type MailFromRequest,
  type PolicyDecision,
  type SessionPolicy,
} from '../smtp/session-policy.js'
import type { BlocklistService } from './blocklist-service.js'

/**
 * Block lists at SMTP time (MAIL FROM), so that what is already known bad is refused before any
 * data is transferred: a blocked user's outgoing mail (the compromised-account block), and for
 * incoming mail a blocked sender address, sender domain or client IP. The rest of the lists
 * (URLs, hashes, header addresses) need the message and apply in the pipeline.
 */
export class BlocklistSessionPolicy implements SessionPolicy {
  readonly name = 'blocklists'

  constructor(private readonly blocklists: BlocklistService) {}

  checkMailFrom(request: MailFromRequest): PolicyDecision {
    const { session, mailFrom } = request
    if (session.direction === 'outgoing') {
      for (const identity of [mailFrom, session.authUser]) {
        if (!identity || !identity.includes('@')) continue
        const blocked = this.blocklists.blockedSender(identity)
        if (blocked) {
          return {
            verdict: 'reject',
            reply: 'USER_BLOCKED',
            reason: `blocked user ${blocked.address}: ${blocked.reason}`,
          }
        }
      }
      return CONTINUE
    }
    const hits = this.blocklists.matcher.matchEnvelope(mailFrom, session.clientIp)
    const hit = hits[0]
    if (!hit) return CONTINUE
    const reason = `blocklist:${hit.kind}:${hit.value}`
    if (hit.kind === 'sender_ip') return { verdict: 'reject', reply: 'CLIENT_BLOCKED', reason }
    if (hit.kind === 'sender_domain') {
      return { verdict: 'reject', reply: 'SENDER_DOMAIN_BLOCKED', reason }
    }
    return { verdict: 'reject', reply: 'SENDER_BLOCKED', reason }
  }
}
