/**
 * What the analysis of one message produces. Everything here crosses the worker-thread boundary
 * by structured clone, so it is plain data: strings, numbers, booleans, arrays and objects.
 */

/** The caps that make a message `malformed` when it exceeds them (never lost: policy decides). */
export interface AnalysisLimits {
  /** Deepest MIME nesting (multipart inside multipart, attached messages) accepted. */
  maxDepth: number
  /** Most MIME parts in one message, nested messages included. */
  maxParts: number
  /** Largest header block of a single MIME part, in bytes. */
  maxHeaderBytes: number
  /** Most decoded bytes (transfer decoding, nested messages, archive entries) for one message. */
  maxDecodedBytes: number
  /** Wall-clock budget for parsing and extraction of one message. */
  maxParseMs: number
  /** Largest decoded text or HTML part that is scanned for URLs; the rest is skipped (a defect). */
  maxTextBytes: number
  /** Most URLs recorded for one message; further URLs are counted but not kept. */
  maxUrls: number
  /** Most entries listed for one archive. */
  maxArchiveEntries: number
  /** Largest single archive entry that is decompressed to be hashed. */
  maxArchiveEntryBytes: number
}

export type MalformedReason =
  'depth' | 'parts' | 'header-size' | 'decoded-size' | 'time' | 'structure' | 'worker-crash'

export interface Malformed {
  reason: MalformedReason
  detail: string
}

/** A problem found in the message that did not stop the analysis (Python's email "defects"). */
export interface Defect {
  code: DefectCode
  /** MIME part path (`1.2`), or `''` for the top-level header. */
  part: string
  detail?: string
}

export type DefectCode =
  | 'nul-in-header'
  | 'nul-in-body'
  | 'eight-bit-header'
  | 'invalid-header-line'
  | 'missing-header-separator'
  | 'duplicate-singleton-header'
  | 'missing-from'
  | 'missing-boundary'
  | 'unterminated-multipart'
  | 'empty-multipart'
  | 'bare-line-ending'
  | 'invalid-base64'
  | 'unknown-transfer-encoding'
  | 'unknown-charset'
  | 'text-truncated'
  | 'urls-truncated'
  | 'archive-unreadable'
  | 'archive-entries-truncated'
  | 'archive-entry-too-large'
  | 'invalid-address'

export interface MailAddress {
  /** Display name as the reader sees it (encoded words decoded). */
  name: string
  /** Lower-cased domain, local part kept as written; `''` when the value is not an address. */
  address: string
}

export interface ReceivedHop {
  /** Host name the sending side gave (HELO or rDNS). */
  from: string | null
  /** IP address in the `from` clause, when one is there. */
  ip: string | null
  by: string | null
  with: string | null
  id: string | null
  /** ISO time of the hop, when its date parses. */
  date: string | null
}

export interface HeaderSummary {
  from: MailAddress[]
  sender: MailAddress[]
  replyTo: MailAddress[]
  to: MailAddress[]
  cc: MailAddress[]
  returnPath: string | null
  subject: string | null
  /** Without the angle brackets. */
  messageId: string | null
  /** ISO time when the Date header parses, else the raw value. */
  date: string | null
  received: ReceivedHop[]
  /** Every top-level header, decoded, in order (capped to keep records small). */
  list: { name: string; value: string }[]
}

export type UrlSource = 'text' | 'html-href' | 'html-src' | 'html-form' | 'html-text' | 'html-meta'

export interface ExtractedUrl {
  /** Normalised absolute URL, spelled as the hub spells URL observables (`@postern/ctim`). */
  url: string
  /** Lower-case host name or IP literal. */
  host: string
  /** Registrable domain of the host (`login.evil.example.co.uk` → `example.co.uk`), or the IP. */
  domain: string
  sources: UrlSource[]
  /** Part paths it was found in. */
  parts: string[]
}

export interface ArchiveEntry {
  name: string
  size: number
  compressedSize: number
  encrypted: boolean
  /** Hex SHA-256 of the content, when it was small enough to be decompressed. */
  sha256: string | null
  sniffedType: string | null
}

export interface Attachment {
  part: string
  filename: string | null
  /** Content-Type as declared by the sender. */
  declaredType: string
  /** MIME type found from the content's magic bytes; null when unknown. */
  sniffedType: string | null
  /** Lower-case extension of the file name (`exe` for `invoice.pdf.exe`). */
  extension: string | null
  disposition: 'attachment' | 'inline'
  size: number
  sha256: string
  md5: string
  sha1: string
  /** Zip entries (zip archives only). */
  entries: ArchiveEntry[]
  /** OOXML document carrying a VBA project (macros). */
  hasMacros: boolean
  /** The archive is encrypted (at least one entry). */
  encrypted: boolean
}

/** An HTML form that looks like it collects credentials (RFC-free heuristics, see html.ts). */
export interface FormHint {
  part: string
  action: string | null
  hasPassword: boolean
  /** Names of the input fields (capped). */
  fields: string[]
}

/** A link whose visible text names another site than the one it leads to. */
export interface DeceptiveLink {
  part: string
  /** Where the link goes (normalised). */
  url: string
  /** The domain its text shows. */
  shownDomain: string
}

export interface PartSummary {
  path: string
  contentType: string
  charset: string | null
  encoding: string | null
  disposition: string | null
  filename: string | null
  /** Decoded size in bytes (0 for multipart containers). */
  size: number
  depth: number
}

export interface MessageAnalysis {
  size: number
  /** Bytes of the top-level header block including the empty line that ends it. */
  headerBytes: number
  malformed: Malformed | null
  defects: Defect[]
  headers: HeaderSummary
  parts: PartSummary[]
  urls: ExtractedUrl[]
  /** URLs found, including those beyond `maxUrls`. */
  urlCount: number
  attachments: Attachment[]
  forms: FormHint[]
  deceptiveLinks: DeceptiveLink[]
  /** Plain text of the message (text parts, or HTML reduced to text), when asked for. */
  text: string | null
}
