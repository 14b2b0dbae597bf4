import type { Generated } from 'kysely'

/**
 * Tables of the gateway's content pipeline (migration 0200): analysis results, URLs and
 * attachments per message, quarantines, block lists, blocked users, learned sender facts.
 */

/** One row per analysed message: verdict flags for search, the full summary as JSON. */
export interface MessageAnalysisTable {
  mid: number
  at: number
  direction: string
  /** Comma-separated verdict tags (`spam,blocked`), `''` for none. */
  verdicts: string
  spam: number
  virus: number
  malformed: number
  blocked: number
  phish: number
  auth_failed: number
  quarantined: number
  spf: string | null
  dkim: string | null
  dmarc: string | null
  /** Name of the mail policy applied (first recipient's when recipients split). */
  policy: string | null
  /** JSON: defects, authentication, scanner results, policy decisions. */
  summary: string
}

export interface MessageUrlsTable {
  mid: number
  idx: number
  url: string
  host: string
  domain: string
  /** Comma-separated sources (`html-href,text`). */
  sources: string
  /** The message's received time (migration 1300). */
  received_at: number
}

/** Attachments, and entries of zip archives (`parent_idx` = the archive's `idx`). */
export interface MessageAttachmentsTable {
  mid: number
  idx: number
  parent_idx: number | null
  part: string
  filename: string | null
  declared_type: string | null
  sniffed_type: string | null
  extension: string | null
  size: number
  sha256: string | null
  md5: string | null
  sha1: string | null
  encrypted: number
  macros: number
  /** The message's received time (migration 1300). */
  received_at: number
}

export interface QuarantineItemsTable {
  id: Generated<number>
  mid: number
  quarantine: string
  /** held, released, deleted, expired */
  status: string
  reason: string
  direction: string
  envelope_sender: string
  /** JSON array of the quarantined envelope recipients. */
  recipients: string
  subject: string | null
  header_from: string | null
  size: number
  created_at: number
  expires_at: number
  resolved_at: number | null
  resolved_by: string | null
}

export interface QuarantineContentsTable {
  item_id: number
  content: Buffer
}

export interface BlocklistEntriesTable {
  id: Generated<number>
  /** sender_address, sender_domain, url, url_domain, attachment_hash, sender_ip */
  kind: string
  value: string
  /** Where the entry came from: cli, api, hub, policy. */
  source: string
  reason: string
  created_by: string
  created_at: number
  expires_at: number | null
  /** Identifier in the system that pushed the entry (e.g. the hub's action id). */
  external_ref: string | null
}

export interface BlockedSendersTable {
  address: string
  reason: string
  source: string
  created_by: string
  created_at: number
  /** The message that got the sender blocked, when a policy did it. */
  mid: number | null
}

export interface SenderDomainsTable {
  domain: string
  first_seen: number
  last_seen: number
  messages: number
}

export interface InternalSendersTable {
  address: string
  display_name: string
  /** The display name reduced for comparison (see `displayNameKey`). */
  name_key: string
  last_seen: number
}

export interface ContentRevisionsTable {
  name: string
  revision: number
}

export interface ContentSchema {
  message_analysis: MessageAnalysisTable
  message_urls: MessageUrlsTable
  message_attachments: MessageAttachmentsTable
  quarantine_items: QuarantineItemsTable
  quarantine_contents: QuarantineContentsTable
  blocklist_entries: BlocklistEntriesTable
  blocked_senders: BlockedSendersTable
  sender_domains: SenderDomainsTable
  internal_senders: InternalSendersTable
  content_revisions: ContentRevisionsTable
}
