import { z } from 'zod'
import type { MailboxAdapter, MailboxHit, MailboxSession } from '../adapter.js'
import { gwErrors } from '../../errors.js'
import { normalizeMessageId, type MailboxAddress } from '../mailbox-address.js'
import type { DoveadmSettings } from '../profile-kinds.js'
import {
  DoveadmCallError,
  DoveadmClient,
  type DoveadmCommand,
  type DoveadmResult,
} from './doveadm-client.js'
import { headerMessageId } from './imap.js'
import { refuseOversized } from './read-capped.js'

/** sysexits.h codes doveadm answers with (doveadm.h maps its own errors onto them). */
const EX_NOUSER = 67
const EX_TEMPFAIL = 75

/** Replies without a message body: a few rows per folder that holds a copy. */
const LIST_REPLY_BYTES = 1024 * 1024

// One row of `fetch mailbox-guid mailbox uid size.virtual hdr.message-id`; doveadm prints every
// field as a string.
const hitRowSchema = z.object({
  'mailbox-guid': z.string().regex(/^[0-9a-f]{32}$/),
  mailbox: z.string(),
  uid: z.string().regex(/^[1-9][0-9]{0,9}$/),
  'size.virtual': z.string().regex(/^[0-9]{1,15}$/),
  'hdr.message-id': z.string(),
})
const textRowSchema = z.object({ text: z.string() })

/**
 * Dovecot's own admin interface, the doveadm HTTP API (`doveadm_api_key`): no IMAP login, no
 * imap process per mailbox. A mailbox is searched in every folder at once with `fetch … header
 * message-id <id>` (the hits are then checked exactly, because HEADER search is a substring
 * match, RFC 3501 §6.4.4), and cleaned with `expunge` (or `move` to the trash) addressed by
 * folder GUID and UID — never by folder name, since doveadm reads `*` and `%` in names as
 * wildcards and folder names belong to the mailbox owner.
 */
export class DoveadmAdapter implements MailboxAdapter {
  readonly kind = 'doveadm'
  readonly maxConnections: number
  private readonly client: DoveadmClient

  constructor(
    readonly profile: string,
    private readonly settings: DoveadmSettings,
    apiKey: string,
  ) {
    this.maxConnections = settings.maxConnections
    this.client = new DoveadmClient({
      url: new URL(settings.url),
      apiKey,
      rejectUnauthorized: settings.rejectUnauthorized,
      maxSockets: settings.maxConnections,
      timeoutMs: settings.timeoutMs,
    })
  }

  /**
   * Nothing is sent: the search itself tells an unknown user (doveadm exit code 67), which
   * saves a userdb round trip per mailbox; a chained profile then moves on at that point.
   */
  async open(mailbox: MailboxAddress): Promise<MailboxSession> {
    const user = this.settings.mailboxLogin === 'local' ? mailbox.local : mailbox.address
    return new DoveadmSession(this.client, this.profile, mailbox.address, user, {
      deleteMode: this.settings.deleteMode,
      trashFolder: this.settings.trashFolder,
    })
  }

  async close(): Promise<void> {
    this.client.close()
  }
}

class DoveadmSession implements MailboxSession {
  constructor(
    private readonly client: DoveadmClient,
    readonly profile: string,
    private readonly mailbox: string,
    private readonly user: string,
    private readonly options: { deleteMode: DoveadmSettings['deleteMode']; trashFolder: string },
  ) {}

  async find(messageId: string): Promise<MailboxHit[]> {
    const wanted = normalizeMessageId(messageId)
    const [rows] = await this.run('fetch by Message-ID', [
      [
        'fetch',
        {
          user: this.user,
          field: ['mailbox-guid', 'mailbox', 'uid', 'size.virtual', 'hdr.message-id'],
          // One argument per word: the Message-ID is passed as data, never parsed as a query.
          query: ['header', 'message-id', wanted],
        },
        'f',
      ],
    ])
    const parsed = z.array(hitRowSchema).safeParse(rows)
    if (!parsed.success) throw this.malformed('fetch by Message-ID', 'unexpected fetch rows')
    const hits: MailboxHit[] = []
    for (const row of parsed.data) {
      if (headerMessageId(`Message-ID: ${row['hdr.message-id']}`) !== wanted) continue
      if (this.options.deleteMode === 'trash' && row.mailbox === this.options.trashFolder) continue
      hits.push({
        folder: row.mailbox,
        ref: `${row['mailbox-guid']}:${row.uid}`,
        size: Number(row['size.virtual']),
      })
    }
    return hits
  }

  async fetchRaw(hit: MailboxHit, maxBytes: number): Promise<Buffer> {
    refuseOversized(hit, maxBytes, this.mailbox)
    // JSON escapes can make the reply up to six times the message (\u00XX per byte).
    const [rows] = await this.run(
      'fetch text',
      [['fetch', { user: this.user, field: ['text'], query: this.address(hit) }, 't']],
      { maxBytes: maxBytes * 6 + 4096 },
    )
    const parsed = z.array(textRowSchema).safeParse(rows)
    if (!parsed.success) throw this.malformed('fetch text', 'unexpected fetch rows')
    const row = parsed.data[0]
    if (!row) {
      throw gwErrors.REMEDIATION_BACKEND_FAILED({
        operation: 'fetch text',
        mailbox: this.mailbox,
        reason: 'the message disappeared while it was being read',
        transient: true,
        profile: this.profile,
      })
    }
    // doveadm prints the message with LF line ends; mail on the wire ends lines with CRLF
    // (RFC 5322 §2.1).
    const raw = Buffer.from(row.text.replace(/\r?\n/g, '\r\n'), 'utf8')
    if (raw.length > maxBytes) {
      throw gwErrors.REMEDIATION_MESSAGE_TOO_LARGE({
        mailbox: this.mailbox,
        size: raw.length,
        limit: maxBytes,
      })
    }
    return raw
  }

  /** One command per folder: each command opens the user again, so hits are grouped. */
  async delete(hits: MailboxHit[]): Promise<void> {
    const uidsByFolder = new Map<string, string[]>()
    for (const hit of hits) {
      const [guid, uid] = splitRef(hit)
      uidsByFolder.set(guid, [...(uidsByFolder.get(guid) ?? []), uid])
    }
    const trash = this.options.deleteMode === 'trash'
    const commands = [...uidsByFolder].map(([guid, uids], i): DoveadmCommand => {
      const query = ['mailbox-guid', guid, 'uid', uids.join(',')]
      return trash
        ? [
            'move',
            { user: this.user, destinationMailbox: this.options.trashFolder, query },
            `d${i}`,
          ]
        : ['expunge', { user: this.user, query }, `d${i}`]
    })
    if (commands.length > 0) await this.run(trash ? 'move' : 'expunge', commands)
  }

  async close(): Promise<void> {}

  /** Runs the commands; every one must succeed. */
  private async run(
    operation: string,
    commands: DoveadmCommand[],
    options: { maxBytes?: number } = {},
  ): Promise<unknown[]> {
    let results: DoveadmResult[]
    try {
      results = await this.client.call(commands, options.maxBytes ?? LIST_REPLY_BYTES)
    } catch (err) {
      if (!(err instanceof DoveadmCallError)) throw err
      if (err.kind === 'malformed') throw this.malformed(operation, err.message, err.transient)
      throw gwErrors.REMEDIATION_MAILBOX_UNAVAILABLE(
        {
          mailbox: this.mailbox,
          profile: this.profile,
          reason: err.message,
          transient: err.transient,
        },
        { cause: err },
      )
    }
    return results.map((result) => {
      if (result.ok) return result.rows
      if (result.exitCode === EX_NOUSER) {
        throw gwErrors.REMEDIATION_MAILBOX_UNKNOWN({
          mailbox: this.mailbox,
          profile: this.profile,
          reason: 'doveadm: user does not exist',
        })
      }
      throw gwErrors.REMEDIATION_BACKEND_FAILED({
        operation,
        mailbox: this.mailbox,
        reason: `doveadm exit code ${result.exitCode ?? 'unknown'}`,
        transient: result.exitCode === EX_TEMPFAIL,
        profile: this.profile,
      })
    })
  }

  /** One message, by folder GUID and UID (no wildcards, unlike folder names). */
  private address(hit: MailboxHit): string[] {
    const [guid, uid] = splitRef(hit)
    return ['mailbox-guid', guid, 'uid', uid]
  }

  private malformed(operation: string, reason: string, transient = false): Error {
    return gwErrors.REMEDIATION_BACKEND_FAILED({
      operation,
      mailbox: this.mailbox,
      reason: `malformed doveadm reply: ${reason}`,
      transient,
      profile: this.profile,
    })
  }
}

/** Folder GUID and UID of a hit (`find` makes the ref as `<guid>:<uid>`). */
function splitRef(hit: MailboxHit): [string, string] {
  const [guid = '', uid = ''] = hit.ref.split(':')
  return [guid, uid]
}
