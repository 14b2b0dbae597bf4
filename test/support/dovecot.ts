import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs'
import { hostname, userInfo } from 'node:os'
import { join } from 'node:path'
import { ImapFlow } from 'imapflow'
import nodemailer from 'nodemailer'
import {
  freePort,
  requireProgram,
  startProcess,
  tempDir,
  waitForPort,
  type RunningProcess,
} from '@postern/testkit'

/**
 * A real Dovecot (Debian `dovecot-imapd` + `dovecot-lmtpd`) for remediation tests and the
 * remediation benchmark: IMAP and LMTP on ephemeral loopback ports, a passwd-file passdb/userdb
 * with the given users, a master user (`user*master` logins and SASL PLAIN authzid), Maildir++
 * storage under a temp dir, and `Trash`/`Junk`/`Archive` folders created on first login.
 * Everything it writes lives in one temp dir that `stop()` removes.
 */
export interface DovecotOptions {
  /** Mailbox addresses (user@domain); every user gets the password from `passwordOf`. */
  users: string[]
  /** Master user name and password (default `postern-master` with a random password). */
  master?: { user: string; password: string }
  /** `imap` process limit; the benchmark raises it to serve many concurrent logins. */
  processLimit?: number
}

export interface ImapProfileBody {
  name: string
  kind: 'imap'
  domains: string[]
  settings: { host: string; port: number; security: 'none'; masterUser: string }
  secrets: { masterPassword: string }
}

export interface DovecotServer {
  host: string
  /** The Dovecot master process (its tree holds every login, imap and auth process). */
  pid: number
  imapPort: number
  lmtpPort: number
  /** Dovecot's doveadm HTTP API (`/doveadm/v1`), authenticated with `doveadmApiKey`. */
  doveadmPort: number
  doveadmApiKey: string
  master: { user: string; password: string }
  /** Root under which every mailbox lives as `<root>/<domain>/<local>/Maildir`. */
  mailRoot: string
  /** The Maildir path template the `maildir` profile kind uses for this server. */
  maildirTemplate: string
  /** Owner of the mail files (Dovecot refuses mail access as root). */
  mailUid: number
  mailGid: number
  passwordOf(address: string): string
  /**
   * A remediation profile (`POST /api/v1/remediation/profiles` body) that reaches this server
   * over IMAP with its master user.
   */
  imapProfile(name: string, domains: string[]): ImapProfileBody
  maildirOf(address: string): string
  /** Delivers through Dovecot LMTP (RFC 2033), the way an MTA hands mail to the store. */
  deliverLmtp(raw: string | Buffer, recipients: string[], from?: string): Promise<void>
  /** Writes a message straight into a Maildir folder (`INBOX` or a folder name). */
  writeMaildir(address: string, raw: string | Buffer, folder?: string): string
  /** Creates a Maildir++ folder the way Dovecot would (no-op when it exists). */
  ensureFolder(address: string, folder: string): void
  /** Logs in as the user (not the master) and returns the Message-IDs per folder. */
  messageIdsByFolder(address: string): Promise<Record<string, string[]>>
  /** Logs in as the user; the caller logs out. */
  loginAsUser(address: string): Promise<ImapFlow>
  log(): string
  stop(): Promise<void>
}

export async function startDovecot(options: DovecotOptions): Promise<DovecotServer> {
  const dovecotBin = requireProgram('dovecot', 'dovecot-imapd')
  requireProgram('imap', 'dovecot-imapd')
  requireProgram('lmtp', 'dovecot-lmtpd')
  const dir = tempDir('postern-dovecot-')
  // Login and mail processes run as other users: the tree must be reachable by them.
  chmodSync(dir.path, 0o755)
  const asRoot = process.getuid?.() === 0
  const mailUid = asRoot ? 65534 : (process.getuid?.() ?? 0)
  const mailGid = asRoot ? 65534 : (process.getgid?.() ?? 0)
  const me = userInfo().username
  const mailRoot = join(dir.path, 'mail')
  mkdirSync(mailRoot, { recursive: true })
  if (asRoot) chownSync(mailRoot, mailUid, mailGid)

  const master = options.master ?? {
    user: 'postern-master',
    password: randomBytes(12).toString('base64url'),
  }
  const passwords = new Map<string, string>()
  const userLines: string[] = []
  for (const address of options.users) {
    const password = `pw-${randomBytes(6).toString('hex')}`
    passwords.set(address.toLowerCase(), password)
    userLines.push(`${address.toLowerCase()}:{PLAIN}${password}:${mailUid}:${mailGid}::::`)
  }
  // Read by Dovecot's auth process, which runs as its own user; these are throwaway test
  // credentials inside a private temp dir.
  writeFileSync(join(dir.path, 'users'), `${userLines.join('\n')}\n`, { mode: 0o644 })
  writeFileSync(join(dir.path, 'master-users'), `${master.user}:{PLAIN}${master.password}\n`, {
    mode: 0o644,
  })

  const imapPort = await freePort()
  const lmtpPort = await freePort()
  const doveadmPort = await freePort()
  const doveadmApiKey = randomBytes(18).toString('base64url')
  const maildirTemplate = join(mailRoot, '%d', '%n', 'Maildir')
  const config = `
base_dir = ${dir.path}/run
state_dir = ${dir.path}/state
log_path = ${dir.path}/dovecot.log
instance_name = postern-test-${randomBytes(4).toString('hex')}
protocols = imap lmtp
doveadm_api_key = ${doveadmApiKey}
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_master_user_separator = *
auth_username_format = %Lu
auth_failure_delay = 0
${asRoot ? '' : `default_login_user = ${me}\ndefault_internal_user = ${me}\n`}first_valid_uid = ${Math.min(mailUid, 500)}
mail_location = maildir:${maildirTemplate}
mail_home = ${mailRoot}/%d/%n
hostname = ${hostname() || 'localhost'}
postmaster_address = postmaster@localhost
lmtp_save_to_detail_mailbox = no

passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir.path}/master-users
  master = yes
  # The target user must exist too, so a master login to an unknown mailbox fails (RFC 3501
  # NO [AUTHENTICATIONFAILED]) instead of opening an empty one.
  pass = yes
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir.path}/users
}
userdb {
  driver = passwd-file
  args = ${dir.path}/users
}

namespace inbox {
  inbox = yes
  separator = /
  mailbox Trash {
    special_use = \\Trash
    auto = create
  }
  mailbox Junk {
    special_use = \\Junk
    auto = create
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Archive {
    special_use = \\Archive
    auto = create
  }
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
  # Performance mode: long-lived login processes instead of one per connection.
  service_count = 0
  process_min_avail = 1
}
service imap {
  process_limit = ${options.processLimit ?? 256}
  # Reuse imap processes across logins (all mailboxes share one uid), as busy servers do.
  service_count = 1000
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${lmtpPort}
  }
}
service doveadm {
  inet_listener http {
    address = 127.0.0.1
    port = ${doveadmPort}
  }
  # Reuse doveadm server processes across connections (the default forks one per connection).
  service_count = 1000
  process_min_avail = 2
}
service auth {
  client_limit = ${Math.max(1000, (options.processLimit ?? 256) * 4)}
}
default_client_limit = ${Math.max(1000, (options.processLimit ?? 256) * 4)}
`
  const configFile = join(dir.path, 'dovecot.conf')
  writeFileSync(configFile, config)

  const proc: RunningProcess = startProcess(dovecotBin, ['-F', '-c', configFile])
  const readLog = (): string => {
    try {
      return readFileSync(join(dir.path, 'dovecot.log'), 'utf8')
    } catch {
      return ''
    }
  }
  try {
    await Promise.race([
      Promise.all([waitForPort(imapPort), waitForPort(lmtpPort), waitForPort(doveadmPort)]),
      proc.exited.then((code) => {
        throw new Error(`dovecot exited (${code}):\n${proc.output()}\n${readLog()}`)
      }),
    ])
  } catch (err) {
    await proc.stop()
    dir.remove()
    throw err
  }

  /** mkdir -p that gives every directory it creates to the mail user, as Dovecot would. */
  const mkdirOwned = (path: string): void => {
    if (existsSync(path)) return
    mkdirOwned(join(path, '..'))
    mkdirSync(path, { mode: 0o700 })
    if (asRoot) chownSync(path, mailUid, mailGid)
  }
  const maildirOf = (address: string): string => {
    const [local, domain] = splitAddress(address)
    return join(mailRoot, domain, local, 'Maildir')
  }
  const passwordOf = (address: string): string => {
    const password = passwords.get(address.toLowerCase())
    if (password === undefined) throw new Error(`${address} is not a user of this Dovecot`)
    return password
  }
  const loginAsUser = async (address: string): Promise<ImapFlow> => {
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: imapPort,
      secure: false,
      doSTARTTLS: false,
      auth: { user: address, pass: passwordOf(address) },
      logger: false,
    })
    await client.connect()
    return client
  }
  const lmtp = nodemailer.createTransport({
    host: '127.0.0.1',
    port: lmtpPort,
    lmtp: true,
    secure: false,
    ignoreTLS: true,
  })

  return {
    host: '127.0.0.1',
    pid: proc.child.pid ?? 0,
    imapPort,
    lmtpPort,
    doveadmPort,
    doveadmApiKey,
    master,
    mailRoot,
    maildirTemplate,
    mailUid,
    mailGid,
    passwordOf,
    imapProfile: (name, domains) => ({
      name,
      kind: 'imap',
      domains,
      settings: { host: '127.0.0.1', port: imapPort, security: 'none', masterUser: master.user },
      secrets: { masterPassword: master.password },
    }),
    maildirOf,
    async deliverLmtp(raw, recipients, from = 'sender@external.test') {
      const info = await lmtp.sendMail({ envelope: { from, to: recipients }, raw })
      if (info.rejected && info.rejected.length > 0) {
        throw new Error(`LMTP rejected ${info.rejected.join(', ')}: ${info.response}`)
      }
    },
    ensureFolder(address, folder) {
      const folderDir = join(maildirOf(address), `.${folder.replace(/\//g, '.')}`)
      for (const sub of ['tmp', 'new', 'cur']) mkdirOwned(join(folderDir, sub))
      if (!existsSync(join(folderDir, 'maildirfolder'))) {
        writeFileSync(join(folderDir, 'maildirfolder'), '')
        if (asRoot) chownSync(join(folderDir, 'maildirfolder'), mailUid, mailGid)
      }
    },
    writeMaildir(address, raw, folder = 'INBOX') {
      const root = maildirOf(address)
      const folderDir = folder === 'INBOX' ? root : join(root, `.${folder.replace(/\//g, '.')}`)
      for (const sub of ['tmp', 'new', 'cur']) mkdirOwned(join(folderDir, sub))
      if (folder !== 'INBOX' && !existsSync(join(folderDir, 'maildirfolder'))) {
        writeFileSync(join(folderDir, 'maildirfolder'), '')
        if (asRoot) chownSync(join(folderDir, 'maildirfolder'), mailUid, mailGid)
      }
      const name = `${Date.now()}.P${process.pid}Q${randomBytes(6).toString('hex')}.${hostname()}`
      const tmp = join(folderDir, 'tmp', name)
      writeFileSync(tmp, raw)
      const final = join(folderDir, 'new', name)
      if (asRoot) chownSync(tmp, mailUid, mailGid)
      renameSync(tmp, final)
      return final
    },
    loginAsUser,
    async messageIdsByFolder(address) {
      const client = await loginAsUser(address)
      try {
        const out: Record<string, string[]> = {}
        for (const box of await client.list()) {
          if (box.flags.has('\\Noselect')) continue
          const lock = await client.getMailboxLock(box.path, { readOnly: true })
          try {
            const ids: string[] = []
            for await (const msg of client.fetch('1:*', { envelope: true }, { uid: false })) {
              if (msg.envelope?.messageId) ids.push(msg.envelope.messageId)
            }
            out[box.path] = ids
          } catch {
            out[box.path] = []
          } finally {
            lock.release()
          }
        }
        return out
      } finally {
        await client.logout()
      }
    },
    log: readLog,
    async stop() {
      lmtp.close()
      await proc.stop()
      dir.remove()
    },
  }
}

function splitAddress(address: string): [string, string] {
  const at = address.lastIndexOf('@')
  if (at < 1) throw new Error(`not an address: ${address}`)
  return [address.slice(0, at).toLowerCase(), address.slice(at + 1).toLowerCase()]
}
