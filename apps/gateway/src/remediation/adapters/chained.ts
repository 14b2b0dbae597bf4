import type { MailboxAdapter, MailboxHit, MailboxSession } from '../adapter.js'
import { gwErrors } from '../../errors.js'
import type { MailboxAddress } from '../mailbox-address.js'

/**
 * Hybrid deployments (some mailboxes on premises, some in Microsoft 365, one domain): the
 * profiles of the chain are tried in order and the first that has the mailbox is used. Only
 * "no such mailbox" moves on to the next profile; an unreachable server stops the chain,
 * because the mailbox might be exactly there. A member may tell "no such mailbox" when opening
 * it or at its first search (doveadm learns it from the search itself).
 */
export class ChainedAdapter implements MailboxAdapter {
  readonly kind = 'chained'
  readonly maxConnections: number

  constructor(
    readonly profile: string,
    private readonly links: MailboxAdapter[],
  ) {
    this.maxConnections = Math.max(...links.map((l) => l.maxConnections))
  }

  open(mailbox: MailboxAddress): Promise<MailboxSession> {
    return this.openFrom(0, mailbox, [])
  }

  async close(): Promise<void> {}

  private async openFrom(
    first: number,
    mailbox: MailboxAddress,
    misses: string[],
  ): Promise<MailboxSession> {
    for (let i = first; i < this.links.length; i++) {
      const link = this.links[i] as MailboxAdapter
      try {
        const session = await link.open(mailbox)
        return new ChainedSession(session, (miss) =>
          this.openFrom(i + 1, mailbox, [...misses, miss]),
        )
      } catch (err) {
        if (!gwErrors.REMEDIATION_MAILBOX_UNKNOWN.is(err)) throw err
        misses.push(missOf(link.profile, err))
      }
    }
    throw gwErrors.REMEDIATION_MAILBOX_UNKNOWN({
      mailbox: mailbox.address,
      profile: this.profile,
      reason: `not found in any profile of the chain (${misses.join('; ')})`,
    })
  }
}

/** A member's session that hands over to the rest of the chain if the mailbox is not there. */
class ChainedSession implements MailboxSession {
  constructor(
    private session: MailboxSession,
    private readonly rest: (miss: string) => Promise<MailboxSession>,
  ) {}

  get profile(): string {
    return this.session.profile
  }

  async find(messageId: string): Promise<MailboxHit[]> {
    try {
      return await this.session.find(messageId)
    } catch (err) {
      if (!gwErrors.REMEDIATION_MAILBOX_UNKNOWN.is(err)) throw err
      const miss = missOf(this.session.profile, err)
      await this.session.close()
      this.session = await this.rest(miss)
      return this.session.find(messageId)
    }
  }

  fetchRaw(hit: MailboxHit, maxBytes: number): Promise<Buffer> {
    return this.session.fetchRaw(hit, maxBytes)
  }

  get forward(): MailboxSession['forward'] {
    return this.session.forward?.bind(this.session)
  }

  delete(hits: MailboxHit[]): Promise<void> {
    return this.session.delete(hits)
  }

  close(): Promise<void> {
    return this.session.close()
  }
}

function missOf(
  profile: string,
  err: { params: Record<string, unknown>; message: string },
): string {
  return `${profile}: ${String(err.params.reason ?? err.message)}`
}
