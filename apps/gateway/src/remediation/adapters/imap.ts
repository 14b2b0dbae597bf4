import { ImapFlow, type ImapFlowOptions } from 'imapflow'
import { describeError } from '@postern/core'
import type { MailboxAdapter, MailboxHit, MailboxSession } from '../adapter.js'
import { gwErrors } from '../../errors.js'
import { normalizeMessageId, type MailboxAddress } from '../mailbox-address.js'
import type { ImapSettings } from '../profile-kinds.js'
import { readCapped, refuseOversized } from './read-capped.js'

/**
 * IMAP remediation through a master/admin user: one connection per mailbox, logged in as the
 * mailbox owner with the master's password, either Dovecot's `user*master` convention or SASL
 * PLAIN with an authorization identity (RFC 4616 §2). Every selectable folder is searched with
 * `UID SEARCH HEADER Message-ID` (RFC 3501 §6.4.4); the hits are then checked exactly, because
 * HEADER search is a substring match.
 */
export class ImapAdapter implements MailboxAdapter {
  readonly kind = 'imap'
  readonly maxConnections: number

  constructor(
    readonly profile: string,
    private readonly settings: ImapSettings,
    private readonly masterPassword: string,
  ) {
    this.maxConnections = settings.maxConnections
  }

  async open(mailbox: MailboxAddress): Promise<MailboxSession> {
    const login = this.settings.mailboxLogin === 'local' ? mailbox.local : mailbox.address
    const auth: ImapFlowOptions['auth'] =
      this.settings.loginStyle === 'separator'
        ? {
            user: `${login}${this.settings.separator}${this.settings.masterUser}`,
            pass: this.masterPassword,
          }
        : {
            user: this.settings.masterUser,
            pass: this.masterPassword,
            authzid: login,
            loginMethod: 'AUTH=PLAIN',
          }
    const client = new ImapFlow({
      host: this.settings.host,
      port: this.settings.port,
      secure: this.settings.security === 'tls',
      doSTARTTLS:
        this.settings.security === 'starttls'
          ? true
          : this.settings.security === 'none'
            ? false
            : undefined,
      tls: { rejectUnauthorized: this.settings.rejectUnauthorized },
      auth,
      logger: false,
      disableAutoIdle: true,
      // Sessions are a handful of short commands: CONDSTORE/UTF8 (ENABLE, RFC 5161) and
      // COMPRESS (RFC 4978) cost round trips and CPU without helping them.
      disableAutoEnable: true,
      disableCompression: true,
      connectionTimeout: this.settings.timeoutMs,
      greetingTimeout: this.settings.timeoutMs,
      socketTimeout: this.settings.timeoutMs,
      clientInfo: { name: 'Postern remediation' },
    })
    // A dropped connection surfaces as a rejected command; the event must not crash the process.
    client.on('error', () => undefined)
    try {
      await client.connect()
    } catch (err) {
      client.close()
      const failure = err as { authenticationFailed?: boolean; responseText?: string }
      if (failure.authenticationFailed) {
        throw gwErrors.REMEDIATION_MAILBOX_UNKNOWN({
          mailbox: mailbox.address,
          profile: this.profile,
          reason: `the server refused the master login (${failure.responseText ?? 'authentication failed'}): no such mailbox, or wrong master credentials`,
        })
      }
      throw gwErrors.REMEDIATION_MAILBOX_UNAVAILABLE(
        {
          mailbox: mailbox.address,
          profile: this.profile,
          reason: imapReason(err),
          transient: true,
        },
        { cause: err },
      )
    }
    return new ImapSession(client, this.profile, mailbox.address, this.settings.deleteMode)
  }

  async close(): Promise<void> {}
}

class ImapSession implements MailboxSession {
  private trashPath: string | null = null

  constructor(
    private readonly client: ImapFlow,
    readonly profile: string,
    private readonly mailbox: string,
    private readonly deleteMode: ImapSettings['deleteMode'],
  ) {}

  async find(messageId: string): Promise<MailboxHit[]> {
    const wanted = normalizeMessageId(messageId)
    const hits: MailboxHit[] = []
    const folders = await this.guard('LIST', () =>
      // LIST-STATUS (RFC 5819) lets empty folders be skipped without selecting them.
      this.client.list({ statusQuery: { messages: true } }),
    )
    // INBOX last: it holds most copies, and staying selected afterwards saves the SELECT that
    // the delete would otherwise need.
    const ordered = [...folders].sort(
      (a, b) => Number(a.path === 'INBOX') - Number(b.path === 'INBOX'),
    )
    for (const folder of ordered) {
      if (folder.flags.has('\\Noselect') || folder.flags.has('\\NonExistent')) continue
      if (folder.specialUse === '\\Trash') {
        this.trashPath = folder.path
        if (this.deleteMode === 'trash') continue
      }
      if (folder.status?.messages === 0) continue
      await this.guard(`SELECT ${folder.path}`, () => this.client.mailboxOpen(folder.path))
      const uids = await this.guard(`SEARCH in ${folder.path}`, () =>
        this.client.search({ header: { 'message-id': wanted } }, { uid: true }),
      )
      if (!uids || uids.length === 0) continue
      const messages = await this.guard(`FETCH in ${folder.path}`, () =>
        this.client.fetchAll(
          uids.join(','),
          { uid: true, size: true, headers: ['message-id'] },
          { uid: true },
        ),
      )
      for (const message of messages) {
        const header = message.headers?.toString('utf8') ?? ''
        if (headerMessageId(header) === wanted) {
          hits.push({ folder: folder.path, ref: String(message.uid), size: message.size })
        }
      }
    }
    return hits
  }

  async fetchRaw(hit: MailboxHit, maxBytes: number): Promise<Buffer> {
    refuseOversized(hit, maxBytes, this.mailbox)
    await this.select(hit.folder)
    const download = await this.guard(`FETCH BODY[] in ${hit.folder}`, () =>
      this.client.download(hit.ref, undefined, { uid: true }),
    )
    if (!('content' in download) || !download.content) {
      throw gwErrors.REMEDIATION_BACKEND_FAILED({
        operation: 'FETCH BODY[]',
        mailbox: this.mailbox,
        reason: 'the message disappeared while it was being read',
        transient: true,
      })
    }
    return readCapped(download.content, maxBytes, () =>
      gwErrors.REMEDIATION_MESSAGE_TOO_LARGE({
        mailbox: this.mailbox,
        size: `more than ${maxBytes}`,
        limit: maxBytes,
      }),
    )
  }

  async delete(hits: MailboxHit[]): Promise<void> {
    const byFolder = new Map<string, string[]>()
    for (const hit of hits) byFolder.set(hit.folder, [...(byFolder.get(hit.folder) ?? []), hit.ref])
    for (const [folder, uids] of byFolder) {
      await this.select(folder)
      if (this.deleteMode === 'trash') {
        const trash = await this.ensureTrash()
        // MOVE (RFC 6851) where offered; imapflow falls back to COPY + \Deleted + EXPUNGE.
        await this.guard(`MOVE to ${trash}`, () =>
          this.client.messageMove(uids.join(','), trash, { uid: true }),
        )
      } else {
        // STORE +FLAGS (\Deleted) then UID EXPUNGE (RFC 4315) so that only these messages go.
        await this.guard(`DELETE in ${folder}`, () =>
          this.client.messageDelete(uids.join(','), { uid: true }),
        )
      }
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.logout()
    } catch {
      this.client.close()
    }
  }

  /** SELECT (RFC 3501 §6.3.1) unless the folder is already the selected one. */
  private async select(folder: string): Promise<void> {
    const current = this.client.mailbox
    if (current && current.path === folder && !current.readOnly) return
    await this.guard(`SELECT ${folder}`, () => this.client.mailboxOpen(folder))
  }

  private async ensureTrash(): Promise<string> {
    if (this.trashPath) return this.trashPath
    const folders = await this.guard('LIST', () => this.client.list())
    const found =
      folders.find((f) => f.specialUse === '\\Trash') ??
      folders.find((f) => /^trash$/i.test(f.name))
    if (found) {
      this.trashPath = found.path
      return found.path
    }
    const created = await this.guard('CREATE Trash', () => this.client.mailboxCreate('Trash'))
    this.trashPath = created.path
    return created.path
  }

  private async guard<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw gwErrors.REMEDIATION_BACKEND_FAILED(
        {
          operation,
          mailbox: this.mailbox,
          reason: imapReason(err),
          transient: !this.client.usable,
          profile: this.profile,
        },
        { cause: err },
      )
    }
  }
}

/** The Message-ID of a `Message-ID:` header block (unfolded, RFC 5322 §2.2.3), normalised. */
export function headerMessageId(headerBlock: string): string | null {
  const unfolded = headerBlock.replace(/\r?\n[ \t]+/g, ' ')
  const match = /^message-id:\s*(.*)$/im.exec(unfolded)
  if (!match?.[1]) return null
  const inBrackets = /<([^>]*)>/.exec(match[1])
  return normalizeMessageId(inBrackets ? `<${inBrackets[1]}>` : match[1])
}

function imapReason(err: unknown): string {
  const e = err as { responseText?: string; code?: string; message?: string }
  return e.responseText ?? (e.code ? `${e.code}: ${describeError(err)}` : describeError(err))
}
