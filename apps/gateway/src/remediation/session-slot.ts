import type { MailboxSession } from './adapter.js'

/**
 * One mailbox's session, kept open across the targets of a run in that mailbox (a campaign of
 * fifty messages to the same people logs in to each mailbox once, not fifty times). The open
 * promise is stored, so two callers never open two sessions; a session that failed or timed
 * out is discarded, because its state (selected folder, pending command) is unknown.
 */
export class SessionSlot {
  private current: Promise<MailboxSession> | null = null

  /** The open session, opening one when there is none (a failed open is not kept). */
  get(open: () => Promise<MailboxSession>): Promise<MailboxSession> {
    if (this.current) return this.current
    const opening = open()
    this.current = opening
    opening.catch(() => {
      if (this.current === opening) this.current = null
    })
    return opening
  }

  /**
   * Closes and forgets the session; with `expected`, only when it is still that one (a late
   * failure must not close the session a retry opened meanwhile).
   */
  discard(expected?: Promise<MailboxSession>): void {
    const session = this.current
    if (!session || (expected && expected !== session)) return
    this.current = null
    void session.then((s) => s.close()).catch(() => undefined)
  }

  /** Closes the session at the end of the mailbox's targets. */
  async close(): Promise<void> {
    const session = this.current
    this.current = null
    if (session) await session.then((s) => s.close()).catch(() => undefined)
  }
}
