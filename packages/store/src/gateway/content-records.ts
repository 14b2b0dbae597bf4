import { sql, type Kysely } from 'kysely'
import type {
  ContentSchema,
  MessageAnalysisTable,
  MessageAttachmentsTable,
  MessageUrlsTable,
} from './content-schema.js'

export interface StoredUrl {
  url: string
  host: string
  domain: string
  sources: string[]
}

export interface StoredAttachment {
  idx: number
  parentIdx: number | null
  part: string
  filename: string | null
  declaredType: string | null
  sniffedType: string | null
  extension: string | null
  size: number
  sha256: string | null
  md5: string | null
  sha1: string | null
  encrypted: boolean
  macros: boolean
}

export interface StoredAnalysis {
  mid: number
  at: number
  direction: string
  verdicts: string[]
  flags: {
    spam: boolean
    virus: boolean
    malformed: boolean
    blocked: boolean
    phish: boolean
    authFailed: boolean
    quarantined: boolean
  }
  spf: string | null
  dkim: string | null
  dmarc: string | null
  policy: string | null
  summary: Record<string, unknown>
}

function toAnalysis(row: MessageAnalysisTable): StoredAnalysis {
  return {
    mid: Number(row.mid),
    at: Number(row.at),
    direction: row.direction,
    verdicts: row.verdicts === '' ? [] : row.verdicts.split(','),
    flags: {
      spam: row.spam === 1,
      virus: row.virus === 1,
      malformed: row.malformed === 1,
      blocked: row.blocked === 1,
      phish: row.phish === 1,
      authFailed: row.auth_failed === 1,
      quarantined: row.quarantined === 1,
    },
    spf: row.spf,
    dkim: row.dkim,
    dmarc: row.dmarc,
    policy: row.policy,
    summary: JSON.parse(row.summary) as Record<string, unknown>,
  }
}

function toUrl(row: MessageUrlsTable): StoredUrl {
  return { url: row.url, host: row.host, domain: row.domain, sources: row.sources.split(',') }
}

function toAttachment(row: MessageAttachmentsTable): StoredAttachment {
  return {
    idx: row.idx,
    parentIdx: row.parent_idx,
    part: row.part,
    filename: row.filename,
    declaredType: row.declared_type,
    sniffedType: row.sniffed_type,
    extension: row.extension,
    size: Number(row.size),
    sha256: row.sha256,
    md5: row.md5,
    sha1: row.sha1,
    encrypted: row.encrypted === 1,
    macros: row.macros === 1,
  }
}

/**
 * Reads what the content pipeline recorded about a message (it writes through the tracking
 * writer's batches, in the same transactions as the message's events).
 */
export class ContentRecords {
  constructor(private readonly db: Kysely<ContentSchema>) {}

  async analysis(mid: number): Promise<StoredAnalysis | undefined> {
    const row = await this.db
      .selectFrom('message_analysis')
      .selectAll()
      .where('mid', '=', mid)
      .executeTakeFirst()
    return row ? toAnalysis(row) : undefined
  }

  async urls(mid: number): Promise<StoredUrl[]> {
    const rows = await this.db
      .selectFrom('message_urls')
      .selectAll()
      .where('mid', '=', mid)
      .orderBy('idx')
      .execute()
    return rows.map(toUrl)
  }

  async attachments(mid: number): Promise<StoredAttachment[]> {
    const rows = await this.db
      .selectFrom('message_attachments')
      .selectAll()
      .where('mid', '=', mid)
      .orderBy('idx')
      .execute()
    return rows.map(toAttachment)
  }

  /** Marks a message's analysis as quarantined (or not) after a later quarantine move. */
  async setQuarantined(mid: number, quarantined: boolean): Promise<void> {
    await this.db
      .updateTable('message_analysis')
      .set({ quarantined: quarantined ? 1 : 0 })
      .where('mid', '=', mid)
      .execute()
  }
}

export interface SenderDomainSighting {
  domain: string
  at: number
  messages: number
}

export interface InternalSenderSighting {
  address: string
  displayName: string
  nameKey: string
  at: number
}

/**
 * What the pipeline learns from traffic: when each sender domain was first seen (for the
 * "newly seen sender domain" check) and the display names internal users send with (for the
 * display-name spoofing check). Written in batches of upserts.
 */
export class SenderHistoryStore {
  constructor(private readonly db: Kysely<ContentSchema>) {}

  async firstSeen(domain: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('sender_domains')
      .select('first_seen')
      .where('domain', '=', domain)
      .executeTakeFirst()
    return row ? Number(row.first_seen) : undefined
  }

  /** When the first sender domain was ever recorded (the start of learning), if any. */
  async earliestSighting(): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('sender_domains')
      .select((eb) => eb.fn.min<number>('first_seen').as('earliest'))
      .executeTakeFirst()
    return row?.earliest === null || row?.earliest === undefined ? undefined : Number(row.earliest)
  }

  async recordDomains(sightings: readonly SenderDomainSighting[]): Promise<void> {
    if (sightings.length === 0) return
    await this.db.transaction().execute(async (trx) => {
      for (const s of sightings) {
        await trx
          .insertInto('sender_domains')
          .values({ domain: s.domain, first_seen: s.at, last_seen: s.at, messages: s.messages })
          .onConflict((oc) =>
            oc.column('domain').doUpdateSet({
              last_seen: sql`case when sender_domains.last_seen > ${s.at} then sender_domains.last_seen else ${s.at} end`,
              messages: sql`sender_domains.messages + ${s.messages}`,
            }),
          )
          .execute()
      }
    })
  }

  async internalSenders(): Promise<InternalSenderSighting[]> {
    const rows = await this.db.selectFrom('internal_senders').selectAll().execute()
    return rows.map((r) => ({
      address: r.address,
      displayName: r.display_name,
      nameKey: r.name_key,
      at: Number(r.last_seen),
    }))
  }

  async recordInternalSenders(sightings: readonly InternalSenderSighting[]): Promise<void> {
    if (sightings.length === 0) return
    await this.db.transaction().execute(async (trx) => {
      for (const s of sightings) {
        await trx
          .insertInto('internal_senders')
          .values({
            address: s.address,
            display_name: s.displayName,
            name_key: s.nameKey,
            last_seen: s.at,
          })
          .onConflict((oc) =>
            oc.column('address').doUpdateSet({
              display_name: s.displayName,
              name_key: s.nameKey,
              last_seen: s.at,
            }),
          )
          .execute()
      }
    })
  }
}
