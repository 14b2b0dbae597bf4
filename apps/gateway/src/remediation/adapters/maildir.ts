import { constants, createReadStream } from 'node:fs'
import {
  access,
  chown,
  mkdir,
  open,
  readdir,
  rename,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises'
import { basename, join, relative, resolve, sep } from 'node:path'
import pLimit from 'p-limit'
import { describeError } from '@postern/core'
import type { MailboxAdapter, MailboxHit, MailboxSession } from '../adapter.js'
import { gwErrors } from '../../errors.js'
import { normalizeMessageId, type MailboxAddress } from '../mailbox-address.js'
import type { MaildirSettings } from '../profile-kinds.js'
import { headerMessageId } from './imap.js'
import { readCapped } from './read-capped.js'

/** Header blocks longer than this are cut: Message-ID sits near the top of real mail. */
const HEADER_READ_LIMIT = 256 * 1024
/** Files opened at once while scanning one mailbox. */
const SCAN_CONCURRENCY = 32

/**
 * Remediation on a mailbox server that stores Maildir on this host (Dovecot, Courier). Each
 * message is a file; its headers are read up to the blank line and Message-ID compared. A
 * delete unlinks the file (or renames it into the trash folder); the server notices on its next
 * sync, which is how Maildir is meant to be shared between processes.
 */
export class MaildirAdapter implements MailboxAdapter {
  readonly kind = 'maildir'
  readonly maxConnections: number
  private readonly fixedPrefix: string

  constructor(
    readonly profile: string,
    private readonly settings: MaildirSettings,
  ) {
    this.maxConnections = settings.maxConnections
    // Everything before the first variable is fixed; a resolved path must stay under it.
    this.fixedPrefix = resolve(settings.pathTemplate.slice(0, settings.pathTemplate.indexOf('%')))
  }

  async open(mailbox: MailboxAddress): Promise<MailboxSession> {
    const path = this.pathOf(mailbox)
    try {
      await access(join(path, 'cur'), constants.R_OK | constants.W_OK)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw gwErrors.REMEDIATION_MAILBOX_UNKNOWN({
          mailbox: mailbox.address,
          profile: this.profile,
          reason: `no Maildir at ${path}`,
        })
      }
      throw gwErrors.REMEDIATION_MAILBOX_UNAVAILABLE(
        { mailbox: mailbox.address, profile: this.profile, reason: describeError(err) },
        { cause: err },
      )
    }
    return new MaildirSession(this.profile, path, mailbox.address, this.settings)
  }

  async close(): Promise<void> {}

  /** Fills the template; the address was validated, and the result must stay under the prefix. */
  pathOf(mailbox: MailboxAddress): string {
    const path = resolve(
      this.settings.pathTemplate.replace(/%([udn])/g, (_, v: string) =>
        v === 'u' ? mailbox.address : v === 'd' ? mailbox.domain : mailbox.local,
      ),
    )
    const rel = relative(this.fixedPrefix, path)
    if (rel.startsWith('..') || rel.split(sep).some((part) => part === '..' || part === '')) {
      throw gwErrors.REMEDIATION_MAILBOX_ADDRESS_INVALID({ address: mailbox.address })
    }
    return path
  }
}

interface Folder {
  name: string
  dir: string
}

class MaildirSession implements MailboxSession {
  constructor(
    readonly profile: string,
    private readonly root: string,
    private readonly mailbox: string,
    private readonly settings: MaildirSettings,
  ) {}

  async find(messageId: string): Promise<MailboxHit[]> {
    const wanted = normalizeMessageId(messageId)
    const limit = pLimit(SCAN_CONCURRENCY)
    const hits: MailboxHit[] = []
    for (const folder of await this.folders()) {
      if (this.settings.deleteMode === 'trash' && folder.name === this.settings.trashFolder)
        continue
      for (const sub of ['new', 'cur']) {
        const dir = join(folder.dir, sub)
        const names = await this.fs(`read ${dir}`, () => readdir(dir)).catch((err: unknown) => {
          if (isMissing(err)) return [] as string[]
          throw err
        })
        const found = await Promise.all(
          names
            .filter((n) => !n.startsWith('.'))
            .map((name) =>
              limit(async () => {
                const file = join(dir, name)
                const id = await readMessageId(file)
                return id === wanted ? file : null
              }),
            ),
        )
        for (const file of found) {
          if (file) hits.push({ folder: folder.name, ref: file })
        }
      }
    }
    return hits
  }

  async fetchRaw(hit: MailboxHit, maxBytes: number): Promise<Buffer> {
    const file = await this.locate(hit.ref)
    if (!file) {
      throw gwErrors.REMEDIATION_BACKEND_FAILED({
        operation: 'read',
        mailbox: this.mailbox,
        reason: 'the message file disappeared while it was being read',
        transient: true,
      })
    }
    const info = await stat(file)
    const tooLarge = () =>
      gwErrors.REMEDIATION_MESSAGE_TOO_LARGE({
        mailbox: this.mailbox,
        size: info.size,
        limit: maxBytes,
      })
    if (info.size > maxBytes) throw tooLarge()
    return readCapped(createReadStream(file), maxBytes, tooLarge)
  }

  async delete(hits: MailboxHit[]): Promise<void> {
    for (const hit of hits) {
      // The server may have moved the file from new/ to cur/ or changed its flags suffix
      // since the scan: find it again by its unique name (Maildir spec, "info" after ':').
      const file = await this.locate(hit.ref)
      if (!file) continue
      if (this.settings.deleteMode === 'trash') {
        const trash = await this.ensureTrash()
        await this.fs(`move ${file}`, () => rename(file, join(trash, 'cur', basename(file))))
      } else {
        await this.fs(`unlink ${file}`, () => unlink(file)).catch((err: unknown) => {
          if (!isMissing(err)) throw err
        })
      }
    }
  }

  async close(): Promise<void> {}

  private async folders(): Promise<Folder[]> {
    const folders: Folder[] = [{ name: 'INBOX', dir: this.root }]
    if (this.settings.layout === 'maildir++') {
      // Maildir++: every folder is a sibling directory ".Name" (".Parent.Child" for nesting).
      for (const entry of await this.fs(`read ${this.root}`, () =>
        readdir(this.root, { withFileTypes: true }),
      )) {
        if (
          entry.isDirectory() &&
          entry.name.startsWith('.') &&
          entry.name.length > 1 &&
          entry.name !== '..'
        ) {
          folders.push({
            name: entry.name.slice(1).replace(/\./g, '/'),
            dir: join(this.root, entry.name),
          })
        }
      }
      return folders
    }
    // fs layout: folders are nested directories that each hold cur/new/tmp.
    const walk = async (dir: string, prefix: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        if (!entry.isDirectory() || ['cur', 'new', 'tmp'].includes(entry.name)) continue
        const name = prefix ? `${prefix}/${entry.name}` : entry.name
        const child = join(dir, entry.name)
        if (await exists(join(child, 'cur'))) folders.push({ name, dir: child })
        await walk(child, name)
      }
    }
    await this.fs(`read ${this.root}`, () => walk(this.root, ''))
    return folders
  }

  private async locate(file: string): Promise<string | null> {
    if (await exists(file)) return file
    const folderDir = join(file, '..', '..')
    const unique = basename(file).split(':')[0] ?? ''
    for (const sub of ['cur', 'new']) {
      const names = await readdir(join(folderDir, sub)).catch(() => [] as string[])
      const match = names.find((n) => n.split(':')[0] === unique)
      if (match) return join(folderDir, sub, match)
    }
    return null
  }

  private async ensureTrash(): Promise<string> {
    const name = this.settings.trashFolder
    const dir =
      this.settings.layout === 'maildir++'
        ? join(this.root, `.${name.replace(/\//g, '.')}`)
        : join(this.root, ...name.split('/'))
    if (await exists(join(dir, 'cur'))) return dir
    // Created with the owner of the mailbox, so that the mail server can use it afterwards.
    const owner = await stat(this.root)
    for (const sub of ['', 'cur', 'new', 'tmp']) {
      const path = join(dir, sub)
      await mkdir(path, { recursive: true, mode: 0o700 })
      await chown(path, owner.uid, owner.gid).catch(() => undefined)
    }
    if (this.settings.layout === 'maildir++') {
      await writeFile(join(dir, 'maildirfolder'), '')
      await chown(join(dir, 'maildirfolder'), owner.uid, owner.gid).catch(() => undefined)
    }
    return dir
  }

  private async fs<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      if (isMissing(err)) throw err
      throw gwErrors.REMEDIATION_BACKEND_FAILED(
        { operation, mailbox: this.mailbox, reason: describeError(err) },
        { cause: err },
      )
    }
  }
}

/** Reads the header block of a message file (up to the first empty line) and its Message-ID. */
async function readMessageId(file: string): Promise<string | null> {
  let handle
  try {
    handle = await open(file, 'r')
  } catch {
    return null
  }
  try {
    const chunks: Buffer[] = []
    let total = 0
    const buffer = Buffer.alloc(16 * 1024)
    while (total < HEADER_READ_LIMIT) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, total)
      if (bytesRead === 0) break
      chunks.push(Buffer.from(buffer.subarray(0, bytesRead)))
      total += bytesRead
      const text = Buffer.concat(chunks).toString('latin1')
      const end = text.search(/\r?\n\r?\n/)
      if (end >= 0) return headerMessageId(text.slice(0, end + 1))
    }
    return headerMessageId(Buffer.concat(chunks).toString('latin1'))
  } finally {
    await handle.close()
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT'
}
