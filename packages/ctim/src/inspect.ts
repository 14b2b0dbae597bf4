import { decodeEncodedWords } from './encoded-words.js'
import { ctimErrors } from './errors.js'
import { canonicalDomain, canonicalIPv4, canonicalIPv6, isPublicDomain } from './hosts.js'
import { canonicalEmail, observableKey, tryNormalizeObservable } from './normalize.js'
import type { Observable, ObservableType } from './observable-types.js'
import { refang } from './refang.js'
import { trimUrlProse, tryNormalizeUrl } from './url.js'

/**
 * Inspect: find observables in free text — pasted phishing reports, raw headers, SIEM and mail
 * log lines — the way `POST /iroh/iroh-inspect/inspect` does. Text is refanged first, then each
 * logical line (headers unfolded) goes through:
 *
 * 1. labelled values (`Subject:`, `Message-ID:`, `MID 4242`, `user=…`, `fname=…`, `"host": …`):
 *    types that cannot be recognised by shape alone (subjects, users, host names, MIDs) are only
 *    taken when labelled;
 * 2. shapes, most specific first: URLs, file paths, Message-IDs / addresses, MAC, IPv6, IPv4,
 *    hashes, file names, domains (checked against the public-suffix list, so `report.pdf` is a
 *    file name and `hello.world` needs a real TLD), Windows host and account names.
 *
 * Each match masks its span so that later, looser patterns do not re-read it (no `domain` for
 * the host inside a URL, no `md5` inside a Message-ID). Every value goes through
 * `normalizeObservable`, so inspect's output is canonical and unique by type and value.
 */

/** Largest text inspect accepts by default (characters). */
export const INSPECT_MAX_LENGTH = 1_048_576

export interface InspectOptions {
  /** Refuse longer content with `CTIM_ERR_CONTENT_TOO_LARGE` (default {@link INSPECT_MAX_LENGTH}). */
  maxLength?: number
}

type Handler =
  | 'subject'
  | 'messageid'
  | 'mid'
  | 'user'
  | 'hostname'
  | 'host'
  | 'file_name'
  | 'file_path'
  | 'user_agent'
  | 'url'
  | 'domain'
  | 'address'

// Labels (header names, log keys, JSON keys) mapped to how their value is read. Keys are compared
// lower-cased with spaces, "-", "_" and "." removed.
const LABELS: Record<string, Handler> = {
  subject: 'subject',
  emailsubject: 'subject',
  msgsubject: 'subject',
  subjectline: 'subject',
  messagesubject: 'subject',
  messageid: 'messageid',
  msgid: 'messageid',
  inreplyto: 'messageid',
  references: 'messageid',
  originalmessageid: 'messageid',
  internetmessageid: 'messageid',
  xmicrosoftoriginalmessageid: 'messageid',
  mid: 'mid',
  ciscomid: 'mid',
  esamid: 'mid',
  user: 'user',
  username: 'user',
  usrname: 'user',
  suser: 'user',
  duser: 'user',
  srcuser: 'user',
  dstuser: 'user',
  account: 'user',
  accountname: 'user',
  login: 'user',
  logonuser: 'user',
  targetusername: 'user',
  subjectusername: 'user',
  samaccountname: 'user',
  userprincipalname: 'user',
  upn: 'user',
  hostname: 'hostname',
  shost: 'hostname',
  dhost: 'hostname',
  dvchost: 'hostname',
  computer: 'hostname',
  computername: 'hostname',
  workstation: 'hostname',
  workstationname: 'hostname',
  devicename: 'hostname',
  machine: 'hostname',
  machinename: 'hostname',
  endpoint: 'hostname',
  clienthostname: 'hostname',
  host: 'host',
  attachment: 'file_name',
  attachments: 'file_name',
  attachmentname: 'file_name',
  file: 'file_name',
  filename: 'file_name',
  fname: 'file_name',
  filenames: 'file_name',
  filepath: 'file_path',
  fullpath: 'file_path',
  imagepath: 'file_path',
  useragent: 'user_agent',
  requestclientapplication: 'user_agent',
  url: 'url',
  link: 'url',
  requesturl: 'url',
  domain: 'domain',
  senderdomain: 'domain',
  fqdn: 'domain',
  from: 'address',
  to: 'address',
  cc: 'address',
  bcc: 'address',
  replyto: 'address',
  returnpath: 'address',
  sender: 'address',
  deliveredto: 'address',
  xoriginalto: 'address',
  envelopefrom: 'address',
  envelopeto: 'address',
  mailfrom: 'address',
  rcptto: 'address',
  recipient: 'address',
  recipients: 'address',
}

function labelKey(label: string): string {
  return label.toLowerCase().replace(/[\s_.-]/g, '')
}

// File extensions that make `name.ext` a file name rather than a domain. Extensions that are also
// top-level domains (md, py, sh, zip, mov, cab, one) only win for two-label tokens: `invoice.zip`
// is an attachment, `setup.microsoft.zip` is a host.
const FILE_EXTENSIONS = new Set(
  (
    'pdf doc docx docm dot dotm xls xlsx xlsm xlsb xlam xll ppt pptx pptm ppsx rtf txt csv odt ods ' +
    'odp one exe dll scr bat cmd ps1 psm1 vbs vbe js jse wsf wsh hta lnk msi msp cpl jar apk dmg ' +
    'pkg iso img vhd vhdx zip rar 7z gz tgz tar bz2 xz cab arj ace html htm shtml xhtml svg eml ' +
    'msg ics png jpg jpeg gif bmp tif tiff webp mp3 mp4 mov avi mkv wav py sh pl rb php asp aspx jsp md log ' +
    'dat bin tmp bak reg inf sys ocx iqy slk wiz mht mhtml xsl chm'
  ).split(' '),
)
const FILE_EXTENSIONS_THAT_ARE_TLDS = new Set(['md', 'py', 'sh', 'zip', 'mov', 'cab', 'one'])
// Technology names written like file names.
const NOT_FILE_NAMES = new Set(
  'node.js vue.js next.js nuxt.js react.js angular.js ember.js backbone.js express.js three.js d3.js chart.js'.split(
    ' ',
  ),
)

// Names that are not on the public-suffix list but are commonly used for internal networks
// (RFC 6762 `.local`, RFC 8375 `home.arpa`, and widespread private conventions).
const INTERNAL_SUFFIXES = [
  'local',
  'lan',
  'internal',
  'intranet',
  'corp',
  'home',
  'localdomain',
  'home.arpa',
  'private',
]

function isInternalName(name: string): boolean {
  return INTERNAL_SUFFIXES.some((suffix) => name.endsWith(`.${suffix}`))
}

/** The observables found so far, in order of first appearance. */
class Found {
  private readonly items = new Map<string, { position: number; observable: Observable }>()

  // Pasted logs repeat the same values thousands of times; normalise each raw value once.
  private readonly normalized = new Map<string, Observable | null>()

  add(type: ObservableType, value: string, position: number): boolean {
    const rawKey = `${type}\u0000${value}`
    let observable = this.normalized.get(rawKey)
    if (observable === undefined) {
      const result = tryNormalizeObservable({ type, value })
      observable = result.ok ? result.observable : null
      this.normalized.set(rawKey, observable)
    }
    if (observable === null) return false
    const key = observableKey(observable)
    const existing = this.items.get(key)
    if (existing === undefined || existing.position > position) {
      this.items.set(key, { position, observable })
    }
    return true
  }

  list(): Observable[] {
    return [...this.items.values()]
      .sort((a, b) => a.position - b.position)
      .map((item) => item.observable)
  }
}

/** One logical line: its original text (for subjects), refanged text and masked working copy. */
class Line {
  work: string
  readonly refanged: string
  addressContext = false
  messageIdContext = false

  constructor(
    readonly original: string,
    readonly offset: number,
  ) {
    this.refanged = refang(original)
    this.work = this.refanged
  }

  private pending: Array<[number, number]> = []

  /** Blanks a span of the working copy (applied in one pass by {@link flush}). */
  mask(start: number, end: number): void {
    if (end > start) this.pending.push([start, end])
  }

  /** Applies pending masks: one pass over the line, however many spans. */
  flush(): void {
    if (this.pending.length === 0) return
    const spans = this.pending.sort((a, b) => a[0] - b[0])
    this.pending = []
    let out = ''
    let at = 0
    for (const [start, end] of spans) {
      if (end <= at) continue
      const from = Math.max(start, at)
      out += this.work.slice(at, from) + ' '.repeat(end - from)
      at = end
    }
    this.work = out + this.work.slice(at)
  }

  /**
   * Runs `pattern` (global) over the working copy; `take` returns true to mask the match.
   * `trigger` is a cheap pre-check (a character the pattern cannot match without): most lines
   * of a pasted log have no "@" or "://", and skipping them keeps inspect linear and fast.
   */
  scan(pattern: RegExp, trigger: string | RegExp, take: (match: RegExpExecArray) => boolean): void {
    this.flush()
    if (typeof trigger === 'string' ? !this.work.includes(trigger) : !trigger.test(this.work))
      return
    pattern.lastIndex = 0
    for (let match = pattern.exec(this.work); match !== null; match = pattern.exec(this.work)) {
      if (match[0] === '') {
        pattern.lastIndex++
        continue
      }
      if (take(match)) this.mask(match.index, match.index + match[0].length)
    }
    this.flush()
  }
}

function unquote(value: string): string {
  const text = value.trim()
  return /^(["'])[\s\S]*\1$/.test(text) && text.length >= 2 ? text.slice(1, -1).trim() : text
}

function firstToken(value: string): string {
  const text = value.trim()
  const quoted = /^(["'])(.*?)\1/.exec(text)
  if (quoted) return (quoted[2] as string).trim()
  return (text.split(/[\s,;]+/)[0] ?? '').replace(/[.,;:)\]}>]+$/, '')
}

function basename(path: string): string {
  const parts = path.split(/[\\/]/)
  return parts[parts.length - 1] ?? ''
}

function hasFileExtension(name: string): boolean {
  const dot = name.lastIndexOf('.')
  return dot > 0 && FILE_EXTENSIONS.has(name.slice(dot + 1).toLowerCase())
}

// ---------------------------------------------------------------------------------------------
// Labelled values

function addUser(found: Found, value: string, position: number): void {
  const token = firstToken(value)
  if (token === '' || token === '-' || /^(?:n\/a|none|null|unknown|system)$/i.test(token)) return
  if (token.includes('@') && canonicalEmail(token).ok) {
    found.add('email', token, position)
    return
  }
  if (/^[\p{L}\p{N}._$\\@-]{1,256}$/u.test(token)) found.add('user', token, position)
}

function addHost(found: Found, value: string, position: number, preferDomain: boolean): void {
  const token = firstToken(value).replace(/:\d{1,5}$/, '')
  if (token === '' || token === '-') return
  const ip = canonicalIPv4(token) ?? canonicalIPv6(token)
  if (ip !== null) {
    found.add(ip.includes(':') ? 'ipv6' : 'ip', ip, position)
    return
  }
  const domain = canonicalDomain(token)
  if (preferDomain && domain.ok && isPublicDomain(domain.value)) {
    found.add('domain', domain.value, position)
    return
  }
  found.add('hostname', token, position)
}

function addFileNames(found: Found, value: string, position: number): void {
  for (const part of value.split(/[;,]|\s{2,}/)) {
    const item = unquote(part.replace(/^\s*\d+[.)]\s+/, ''))
    if (item === '') continue
    if (/[\\/]/.test(item)) {
      found.add('file_path', item, position)
      found.add('file_name', basename(item), position)
    } else {
      found.add('file_name', item, position)
    }
  }
}

function addMessageIds(found: Found, value: string, position: number): boolean {
  let any = false
  for (const match of value.matchAll(/<([^<>\s]+)>/g)) {
    any = found.add('email_messageid', match[0], position + (match.index ?? 0)) || any
  }
  if (!any) {
    const token = firstToken(value)
    if (token.includes('@')) any = found.add('email_messageid', token, position)
  }
  return any
}

/** Handles a labelled value; returns true when the value should be masked from shape scanning. */
function handleLabelled(
  handler: Handler,
  value: string,
  originalValue: string,
  position: number,
  found: Found,
  line: Line,
): boolean {
  switch (handler) {
    case 'subject': {
      const subject = unquote(decodeEncodedWords(originalValue))
      if (subject !== '') found.add('email_subject', subject, position)
      return false
    }
    case 'messageid':
      line.messageIdContext = true
      return addMessageIds(found, value, position)
    case 'mid': {
      const mid = /^\s*#?(\d{1,20})\b/.exec(value)
      if (mid) found.add('cisco_mid', mid[1] as string, position)
      return mid !== null
    }
    case 'user':
      addUser(found, value, position)
      return true
    case 'hostname':
      addHost(found, value, position, false)
      return true
    case 'host':
      addHost(found, value, position, true)
      return true
    case 'file_name':
      addFileNames(found, value, position)
      return true
    case 'file_path': {
      const path = unquote(value)
      if (path === '') return false
      found.add('file_path', path, position)
      if (hasFileExtension(basename(path))) found.add('file_name', basename(path), position)
      return true
    }
    case 'user_agent': {
      const agent = unquote(value)
      if (agent !== '') found.add('user_agent', agent, position)
      return true
    }
    case 'url': {
      const url = tryNormalizeUrl(cleanUrlCandidate(trimUrlProse(firstToken(value))), {
        assumeHttp: true,
      })
      if (url.ok) addUrl(found, url.value.url, position)
      return url.ok
    }
    case 'domain': {
      const domain = canonicalDomain(firstToken(value))
      if (domain.ok) found.add('domain', domain.value, position)
      return domain.ok
    }
    case 'address':
      line.addressContext = true
      return false
  }
}

// `Label: value` at the start of a line (mail headers, report forms), after quoting (`> `) or
// list bullets. Up to three words so that "Email subject:" and "Computer name:" are labels.
const HEADER = /^[\s>*•-]*([A-Za-z][\w-]*(?: [A-Za-z][\w-]*){0,2})[ \t]*:[ \t]*(.*)$/d

// `key=value`, `key: value`, `"key": "value"` anywhere in a line (CEF, LEEF, JSON, syslog).
const FIELD =
  /(?<![\w.-])(["']?)([A-Za-z][\w.-]{0,40})\1[ \t]*(=|:)[ \t]*(?:"([^"\n]*)"|'([^'\n]*)'|([^\s,;|}\]"']+))/dg

// Single-token labels that may also appear as "key: value" in the middle of an alert line
// ("…, user: jdoe, host: WS-0042"); multi-word values (subjects, file lists) need "=" or a line
// of their own, so that prose is not read as fields.
const INLINE_COLON_HANDLERS = new Set<Handler>(['user', 'hostname', 'host', 'mid', 'messageid'])

// Handlers whose unquoted "key=value" values may contain spaces.
const MULTI_WORD_HANDLERS = new Set<Handler>(['subject', 'file_name', 'file_path', 'user_agent'])
const UNQUOTED_VALUE = /^[^\t\n]*?(?=\t|[ ]+[A-Za-z_][\w.-]{0,40}=|$)/

// AsyncOS mail log shapes: `MID 4242 ICID 7`, `MID 4242 Subject 'Invoice'`,
// `MID 4242 Message-ID '<…>'`, `MID 4242 attachment 'x.zip'`.
const ESA_MID = /\bMID[ \t]*[:=#]?[ \t]*(\d{1,20})\b/g
const ESA_SUBJECT = /\bSubject[ \t]+'(.{0,998})'[ \t]*$/
const ESA_MESSAGE_ID = /\bMessage-ID[ \t]+'(<[^'<>\s]+>)'/gi
const ESA_ATTACHMENT = /\battachment[ \t]+'([^'\n]+)'/gi

function labelledValues(line: Line, found: Found): void {
  let subjectTaken = false
  const header = HEADER.exec(line.work)
  const handler = header ? LABELS[labelKey(header[1] as string)] : undefined
  if (header && handler !== undefined) {
    const [valueStart] = header.indices?.[2] ?? [line.work.length]
    const originalValue = HEADER.exec(line.original)?.[2] ?? (header[2] as string)
    subjectTaken = handler === 'subject'
    if (
      handleLabelled(
        handler,
        header[2] as string,
        originalValue,
        line.offset + valueStart,
        found,
        line,
      )
    ) {
      line.mask(valueStart, line.work.length)
    }
  }

  line.scan(ESA_MID, 'MID', (match) =>
    found.add('cisco_mid', match[1] as string, line.offset + match.index),
  )
  const subject = subjectTaken ? null : ESA_SUBJECT.exec(line.original)
  if (subject) found.add('email_subject', subject[1] as string, line.offset + subject.index)
  line.scan(ESA_MESSAGE_ID, /message-id/i, (match) =>
    found.add('email_messageid', match[1] as string, line.offset + match.index),
  )
  line.scan(ESA_ATTACHMENT, /attachment/i, (match) => {
    addFileNames(found, match[1] as string, line.offset + match.index)
    return true
  })

  line.scan(FIELD, /[=:]/, (match) => {
    const fieldHandler = LABELS[labelKey(match[2] as string)]
    if (fieldHandler === undefined || fieldHandler === 'address') return false
    const quotedKey = match[1] !== ''
    if (match[3] === ':' && !quotedKey && !INLINE_COLON_HANDLERS.has(fieldHandler)) return false
    let value = match[4] ?? match[5] ?? match[6] ?? ''
    const group = match[4] !== undefined ? 4 : match[5] !== undefined ? 5 : 6
    const [valueStart] = match.indices?.[group] ?? [match.index]
    if (group === 6 && MULTI_WORD_HANDLERS.has(fieldHandler)) {
      // CEF and LEEF values run to the next tab or " key=" (ArcSight CEF spec, LEEF 2.0).
      const extended =
        UNQUOTED_VALUE.exec(line.work.slice(valueStart, valueStart + 2048))?.[0].trimEnd() ?? value
      if (extended.length > value.length) {
        value = extended
        line.mask(valueStart, valueStart + extended.length)
      }
    }
    return handleLabelled(fieldHandler, value, value, line.offset + valueStart, found, line)
  })
}

// ---------------------------------------------------------------------------------------------
// Shapes

const URL_PATTERN = /\b(?:https?|ftps?):(?:\/\/|\\\/\\\/)[^\s<>"'`]+/gi

/** Adds a URL and, for link-rewriting services, the URL it wraps. */
function addUrl(found: Found, url: string, position: number): void {
  found.add('url', url, position)
  const inner = unwrapRewrittenUrl(url)
  if (inner !== null) found.add('url', inner, position)
}

/**
 * The destination of a URL rewritten by a mail security service (Microsoft Defender Safe Links,
 * Proofpoint URL Defense v2/v3, Google redirects), or null. Analysts need the real destination;
 * the wrapper is kept too because it is what the mail carried.
 */
export function unwrapRewrittenUrl(url: string): string | null {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return null
  }
  const host = parsed.hostname
  let inner: string | null = null
  if (host.endsWith('.safelinks.protection.outlook.com')) {
    inner = parsed.searchParams.get('url')
  } else if (host === 'urldefense.proofpoint.com' && parsed.pathname === '/v2/url') {
    const u = parsed.searchParams.get('u')
    if (u !== null) {
      try {
        inner = decodeURIComponent(u.replace(/-/g, '%').replace(/_/g, '/'))
      } catch {
        inner = null
      }
    }
  } else if (host === 'urldefense.com' && parsed.pathname.startsWith('/v3/__')) {
    const raw = url.slice(url.indexOf('/v3/__') + 6)
    const end = raw.indexOf('__;')
    inner = end === -1 ? null : raw.slice(0, end)
  } else if (/^(?:www\.)?google\.[a-z.]+$/.test(host) && parsed.pathname === '/url') {
    inner = parsed.searchParams.get('q') ?? parsed.searchParams.get('url')
  }
  if (inner === null) return null
  const normalized = tryNormalizeUrl(inner)
  return normalized.ok && normalized.value.url !== url ? normalized.value.url : null
}

/** Undoes HTML-escaped ampersands (pasted markup) and JSON-escaped slashes (`https:\/\/…`). */
function cleanUrlCandidate(candidate: string): string {
  return candidate.replace(/&amp;/g, '&').replace(/\\\//g, '/')
}

function scanUrls(line: Line, found: Found): void {
  line.scan(URL_PATTERN, ':', (match) => {
    const kept = trimUrlProse(match[0])
    const candidate = trimUrlProse(cleanUrlCandidate(kept))
    const url = tryNormalizeUrl(candidate)
    if (url.ok) addUrl(found, url.value.url, line.offset + match.index)
    // Mask only what the URL kept: prose punctuation after it stays visible.
    line.mask(match.index, match.index + kept.length)
    return false
  })
}

const WINDOWS_PATH_QUOTED = /(["'])((?:[A-Za-z]:\\|\\\\[\w.$-]+\\)[^"'\n<>|*?]*)\1/g
const WINDOWS_PATH =
  /(?<![\w\\/])(?:[A-Za-z]:[\\/]|\\\\[\w.$-]+\\)(?:[^\\/:*?"<>|\s]+[\\/])*[^\\/:*?"<>|\s]*/g
const UNIX_PATH =
  /(?<![\w/.:-])\/(?:tmp|var|etc|home|usr|opt|dev\/shm|Users|private|Library|Applications|root|srv|mnt)\/[^\s"'<>|;,]*/g

function addPath(found: Found, path: string, position: number): void {
  const trimmed = path.replace(/[.,;:)\]}]+$/, '')
  if (trimmed.length < 4) return
  found.add('file_path', trimmed, position)
  const name = basename(trimmed)
  if (name.includes('.') && hasFileExtension(name)) found.add('file_name', name, position)
}

function scanPaths(line: Line, found: Found): void {
  line.scan(WINDOWS_PATH_QUOTED, /:[\\/]|\\\\/, (match) => {
    addPath(found, match[2] as string, line.offset + match.index)
    return true
  })
  line.scan(WINDOWS_PATH, /:[\\/]|\\\\/, (match) => {
    addPath(found, match[0], line.offset + match.index)
    return true
  })
  line.scan(UNIX_PATH, '/', (match) => {
    addPath(found, match[0], line.offset + match.index)
    return true
  })
}

const DOMAIN_CHARS = String.raw`(?:[\p{L}\p{N}_](?:[\p{L}\p{N}_-]{0,61}[\p{L}\p{N}])?\.)+[\p{L}][\p{L}\p{N}-]{0,62}`
const ANGLE_ADDRESS = new RegExp(String.raw`<([^<>\s@]{1,256})@([^<>\s@]{1,256})>`, 'gu')
const EMAIL = new RegExp(
  String.raw`(?<![\p{L}\p{N}._%+'-])[\p{L}\p{N}_%+-](?:[\p{L}\p{N}._%+'-]{0,63})@(?:\[[0-9a-fA-F.:IPv]+\]|${DOMAIN_CHARS})`,
  'gu',
)

/**
 * Whether `<local@domain>` outside address headers is a Message-ID rather than an address:
 * Message-IDs are machine-made (RFC 5322 §3.6.4 recommends a timestamp plus a random part), so
 * they carry runs of digits, `$`/`=`/`%` or hex blocks, and often a host name nobody mails.
 */
function looksLikeMessageId(local: string, domain: string): boolean {
  if (/[$=%#]/.test(local)) return true
  const digits = (local.match(/\d/g) ?? []).length
  if (digits >= 6) return true
  if (/^[0-9a-f]{8,}(?:[.-][0-9a-f]{4,})+$/i.test(local)) return true
  if (local.length >= 24 && /\d/.test(local) && /[a-z]/i.test(local)) return true
  const host = domain.toLowerCase()
  if (/(?:^|\.)(?:prod\.outlook\.com|mail\.gmail\.com|javamail|localhost)/.test(host)) return true
  return !host.includes('.') || (!isPublicDomain(host) && !isInternalName(host))
}

function acceptableMailDomain(domain: string): boolean {
  if (domain.startsWith('[')) return true
  const canonical = canonicalDomain(domain)
  return canonical.ok && (isPublicDomain(canonical.value) || isInternalName(canonical.value))
}

function scanAddresses(line: Line, found: Found): void {
  line.scan(ANGLE_ADDRESS, '@', (match) => {
    const local = match[1] as string
    const domain = match[2] as string
    const position = line.offset + match.index
    if (!line.addressContext && (line.messageIdContext || looksLikeMessageId(local, domain))) {
      return found.add('email_messageid', match[0], position)
    }
    if (acceptableMailDomain(domain)) found.add('email', `${local}@${domain}`, position)
    return true
  })
  line.scan(EMAIL, '@', (match) => {
    const address = match[0].replace(/[.']+$/, '')
    const domain = address.slice(address.lastIndexOf('@') + 1)
    if (acceptableMailDomain(domain)) found.add('email', address, line.offset + match.index)
    return true
  })
}

const MAC =
  /(?<![\w:.-])(?:[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?![\w:-]|\.\w)/g
const IPV6 =
  /(?<![\w:.%])\[?((?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?)(?:%[\w.]+)?\]?(?![\w:]|\.\d)/g
const IPV4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)/g
// "Chrome/120.0.0.0": browser product tokens carry four-part versions.
const PRODUCT_BEFORE =
  /\b(?:Chrome|Chromium|Firefox|Version|Safari|Edg|Edge|EdgA|OPR|Opera|MSIE|Trident|AppleWebKit|Gecko|Mobile|CriOS|FxiOS|SamsungBrowser|YaBrowser|Brave|Vivaldi|Thunderbird|Outlook|Electron|Teams)\/$/i
const HEX = /(?<![\w-])[0-9A-Fa-f]{32,64}(?![\w-])/g
// Keys whose hex values are identifiers, not file hashes.
const NOT_A_HASH_KEY =
  /(?:id|guid|uuid|session|token|nonce|trace|request|correlation|key|secret|signature|sig|cookie|etag|serial|bh|b|fingerprint|thumbprint)["']?\s*[:=]\s*["']?$/i
// "version 1.2.3.4", "build 10.0.19041.1"
const VERSION_BEFORE = /\b(?:version|ver|v|build|release|firmware|patch|update)\s*[:=]?\s*$/i

function scanNetwork(line: Line, found: Found): void {
  line.scan(MAC, /[0-9A-Fa-f]{2}[:-][0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}/, (match) =>
    found.add('mac_address', match[0], line.offset + match.index),
  )
  line.scan(IPV6, /:[0-9A-Fa-f]*:/, (match) => {
    const candidate = match[1] as string
    const groups = candidate.split(':').length
    // Times (09:30:15) and MACs have colons too: require "::" or a full eight groups.
    if (!/\d/.test(candidate) || candidate === '::') return false
    if (!candidate.includes('::') && groups < 8 && !(groups === 7 && candidate.includes('.')))
      return false
    const ip = canonicalIPv6(candidate)
    return ip !== null && found.add('ipv6', ip, line.offset + match.index)
  })
  line.scan(IPV4, /\d\.\d{1,3}\.\d/, (match) => {
    const ip = canonicalIPv4(match[0])
    if (ip === null || ip === '0.0.0.0' || ip === '255.255.255.255') return false
    const before = line.work.slice(Math.max(0, match.index - 24), match.index)
    if (VERSION_BEFORE.test(before) || PRODUCT_BEFORE.test(before)) return true
    return found.add('ip', ip, line.offset + match.index)
  })
  line.scan(HEX, /[0-9A-Fa-f]{32}/, (match) => {
    const hex = match[0]
    const type =
      hex.length === 64 ? 'sha256' : hex.length === 40 ? 'sha1' : hex.length === 32 ? 'md5' : null
    if (type === null || /^\d+$/.test(hex) || /^(.)\1+$/.test(hex)) return false
    if (NOT_A_HASH_KEY.test(line.work.slice(Math.max(0, match.index - 40), match.index)))
      return true
    return found.add(type, hex, line.offset + match.index)
  })
}

const FILE_NAME =
  /(?<![\p{L}\p{N}_.@/\\-])[\p{L}\p{N}_-][\p{L}\p{N}_()-]*(?:\.[\p{L}\p{N}_()-]+)*\.([A-Za-z0-9]{1,5})(?![\p{L}\p{N}_@-]|\.[\p{L}\p{N}])/gu
// "Invoice 3391.zip": a quoted name with spaces and a known extension.
const QUOTED_FILE_NAME = /(["'“‘])([^"'“”‘’\n\\/<>|:*?]{1,200}?\.([A-Za-z0-9]{1,5}))["'”’]/g
const DOMAIN_OR_URL = new RegExp(
  String.raw`(?<![\p{L}\p{N}_@.\/\\:-])(${DOMAIN_CHARS})(?![\p{L}\p{N}_-]|\.[\p{L}\p{N}])((?::\d{1,5})?\/[^\s<>"'\x60]*)?`,
  'gu',
)
const CODE_IDENTIFIERS = new Set(
  (
    'self this that obj item user file req res request response event evt window document console ' +
    'data config options opts args params props state ctx context error err result module exports ' +
    'process math json object string array location navigator element el node'
  ).split(' '),
)
const WINDOWS_HOST = /(?<![\w-])(?:DESKTOP|LAPTOP|WIN|WS|PC|SRV|NB)-[A-Z0-9]{4,15}(?![\w-])/g
const DOMAIN_ACCOUNT = /(?<![\w\\])([A-Z][A-Z0-9-]{1,14})\\([A-Za-z][\w.$-]{0,63})(?![\w\\])/g

function scanNames(line: Line, found: Found): void {
  line.scan(QUOTED_FILE_NAME, /["'“‘]/, (match) => {
    const name = (match[2] as string).trim()
    const ext = (match[3] as string).toLowerCase()
    if (!FILE_EXTENSIONS.has(ext) || !name.includes(' ')) return false
    return found.add('file_name', name, line.offset + match.index)
  })
  line.scan(FILE_NAME, '.', (match) => {
    const ext = (match[1] as string).toLowerCase()
    if (!FILE_EXTENSIONS.has(ext) || NOT_FILE_NAMES.has(match[0].toLowerCase())) return false
    const labels = match[0].split('.').length
    if (FILE_EXTENSIONS_THAT_ARE_TLDS.has(ext) && labels > 2) return false
    return found.add('file_name', match[0], line.offset + match.index)
  })
  line.scan(DOMAIN_OR_URL, '.', (match) => {
    const name = match[1] as string
    const path = match[2]
    const canonical = canonicalDomain(name)
    if (!canonical.ok) return false
    const labels = name.split('.')
    const tld = labels[labels.length - 1] as string
    // "user.name", "request.host": member access in pasted code, not a host.
    if (labels.length === 2 && CODE_IDENTIFIERS.has((labels[0] as string).toLowerCase()))
      return false
    // "…below.Click here": a capitalised word glued to a sentence end is not a domain.
    if (/^\p{Lu}\p{Ll}+$/u.test(tld) && !labels.slice(0, -1).every((l) => /^\p{Lu}+$/u.test(l))) {
      return false
    }
    const position = line.offset + match.index
    if (isPublicDomain(canonical.value)) {
      if (path !== undefined && path.length > 1) {
        const url = tryNormalizeUrl(trimUrlProse(name + path), { assumeHttp: true })
        if (url.ok) {
          addUrl(found, url.value.url, position)
          return true
        }
      }
      return found.add('domain', canonical.value, position)
    }
    if (isInternalName(canonical.value)) return found.add('hostname', canonical.value, position)
    return false
  })
  line.scan(WINDOWS_HOST, '-', (match) =>
    found.add('hostname', match[0], line.offset + match.index),
  )
  line.scan(DOMAIN_ACCOUNT, '\\', (match) => found.add('user', match[0], line.offset + match.index))
}

// ---------------------------------------------------------------------------------------------

/**
 * Quoted-printable bodies in pasted raw mail break long URLs with soft line breaks (`=` at the end
 * of a line, RFC 2045 §6.7); undo that inside parts that declare the encoding.
 */
function decodeQuotedPrintableParts(text: string): string {
  if (!/quoted-printable/i.test(text)) return text
  const header = /^content-transfer-encoding:[ \t]*quoted-printable[ \t]*$/gim
  const boundary = /^--/gm
  const parts: string[] = []
  let cursor = 0
  for (let match = header.exec(text); match !== null; match = header.exec(text)) {
    if (match.index < cursor) continue
    const blank = text.indexOf('\n\n', match.index)
    if (blank === -1) break
    const bodyStart = blank + 2
    boundary.lastIndex = bodyStart
    const bodyEnd = boundary.exec(text)?.index ?? text.length
    const raw = text.slice(bodyStart, bodyEnd).replace(/=\n/g, '')
    // Escapes are bytes (usually UTF-8); decode them only when the pasted body is plain ASCII,
    // otherwise the paste was already decoded and only soft breaks are left to undo.
    const decoded = /^[\p{ASCII}]*$/u.test(raw)
      ? Buffer.from(
          raw.replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) =>
            String.fromCharCode(parseInt(hex, 16)),
          ),
          'latin1',
        ).toString('utf8')
      : raw
    parts.push(text.slice(cursor, bodyStart), decoded)
    cursor = bodyEnd
    header.lastIndex = bodyEnd
  }
  parts.push(text.slice(cursor))
  return parts.join('')
}

/** Splits text into logical lines, joining folded header continuations (RFC 5322 §2.2.3). */
function logicalLines(text: string): Array<{ text: string; offset: number }> {
  const lines: Array<{ text: string; offset: number }> = []
  let offset = 0
  for (const raw of text.split('\n')) {
    const previous = lines[lines.length - 1]
    if (
      previous !== undefined &&
      /^[ \t]+\S/.test(raw) &&
      /^[A-Za-z][\w-]*:/.test(previous.text) &&
      !/^\s*$/.test(previous.text)
    ) {
      previous.text += ` ${raw.trim()}`
    } else {
      lines.push({ text: raw, offset })
    }
    offset += raw.length + 1
  }
  return lines
}

/**
 * Finds the observables in free text: unique `{type, value}` pairs in canonical form, in order of
 * first appearance. Never throws on content; throws `CTIM_ERR_CONTENT_TOO_LARGE` above the limit.
 *
 * @example
 * inspect('Please block hxxps://login-micros0ft[.]com/reset sent from it-support@login-micros0ft.com')
 * // [{ type: 'url', value: 'https://login-micros0ft.com/reset' },
 * //  { type: 'email', value: 'it-support@login-micros0ft.com' }]
 */
export function inspect(content: string, options: InspectOptions = {}): Observable[] {
  const limit = options.maxLength ?? INSPECT_MAX_LENGTH
  if (content.length > limit) {
    throw ctimErrors.CONTENT_TOO_LARGE({ length: content.length, limit })
  }
  const text = decodeQuotedPrintableParts(content.replace(/\r\n?/g, '\n'))
  const found = new Found()
  for (const { text: lineText, offset } of logicalLines(text)) {
    if (lineText.trim() === '') continue
    const line = new Line(lineText, offset)
    labelledValues(line, found)
    scanUrls(line, found)
    scanPaths(line, found)
    scanAddresses(line, found)
    scanNetwork(line, found)
    scanNames(line, found)
  }
  return found.list()
}
