import type { MailboxAddress } from './mailbox-address.js'

/** One copy of the message found in a mailbox. */
export interface MailboxHit {
  /** Folder path as the backend names it (`INBOX`, `Archive/2026`, Graph folder id). */
  folder: string
  /** Backend handle: IMAP UID, Maildir file path, Graph message id. */
  ref: string
  size?: number
}

/**
 * An open mailbox. Sessions are short-lived: opened for one recipient, used for find → (fetch)
 * → delete, then closed.
 */
export interface MailboxSession {
  /** The profile that holds the mailbox (for a chained profile, the link that had it). */
  readonly profile: string
  /**
   * Every copy of the message in every folder, by Message-ID (compared exactly, without the
   * brackets). Folders where deleted mail goes in `trash` delete mode are left out, so that a
   * second delete finds nothing instead of deleting from the trash.
   */
  find(messageId: string): Promise<MailboxHit[]>
  /** The raw RFC 5322 message of one hit, refused above `maxBytes`. */
  fetchRaw(hit: MailboxHit, maxBytes: number): Promise<Buffer>
  /**
   * Present when the backend forwards by itself (Graph `forward`) and the profile asks for it;
   * otherwise the raw message is fetched and sent through the relay.
   */
  forward?(hit: MailboxHit, to: string[], comment: string): Promise<void>
  /** Deletes the hits (permanently or to the trash, as the profile says). */
  delete(hits: MailboxHit[]): Promise<void>
  close(): Promise<void>
}

export interface MailboxAdapter {
  readonly profile: string
  readonly kind: string
  /** Most sessions this profile keeps open at once. */
  readonly maxConnections: number
  /**
   * Opens the mailbox. Throws `REMEDIATION_MAILBOX_UNKNOWN` when the mailbox does not exist
   * there (a chained profile then tries the next one) and `REMEDIATION_MAILBOX_UNAVAILABLE` when
   * the server cannot be reached or refuses the profile's credentials.
   */
  open(mailbox: MailboxAddress): Promise<MailboxSession>
  /** Releases shared resources (token caches, pools). */
  close(): Promise<void>
}

export type DeleteMode = 'permanent' | 'trash'
