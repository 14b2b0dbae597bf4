import type { MailboxAdapter, MailboxSession } from '../adapter.js'
import { gwErrors } from '../../errors.js'
import type { MailboxAddress } from '../mailbox-address.js'

/**
 * Hybrid deployments (some mailboxes on premises, some in Microsoft 365, one domain): the
 * profiles of the chain are tried in order and the first that has the mailbox is used. Only
 * "no such mailbox" moves on to the next profile; an unreachable server stops the chain,
 * because the mailbox might be exactly there.
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

  async open(mailbox: MailboxAddress): Promise<MailboxSession> {
    const misses: string[] = []
    for (const link of this.links) {
      try {
        return await link.open(mailbox)
      } catch (err) {
        if (!gwErrors.REMEDIATION_MAILBOX_UNKNOWN.is(err)) throw err
        misses.push(`${link.profile}: ${String(err.params.reason ?? err.message)}`)
      }
    }
    throw gwErrors.REMEDIATION_MAILBOX_UNKNOWN({
      mailbox: mailbox.address,
      profile: this.profile,
      reason: `not found in any profile of the chain (${misses.join('; ')})`,
    })
  }

  async close(): Promise<void> {}
}
