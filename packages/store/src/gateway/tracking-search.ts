import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely'
import type { Dialect } from '../database.js'
import { partitionStart } from '../migrations/gateway/1100_tracking_partitions.js'
import type { GatewaySchema } from './schema.js'

/**
 * Read side of message tracking: the search with the ESA grammar, the message detail and the
 * reports. Every observable filter is an index lookup (B-tree on the exact value, or the
 * observables index), `contains` uses the trigram indexes of migration 0301 (SQLite FTS5
 * `trigram`, PostgreSQL `pg_trgm`), and time ranges use `received_at`.
 */

export type TextOperator = 'is' | 'begins_with' | 'contains'
export interface TextCondition {
  operator: TextOperator
  value: string
}

export type VerdictFilter =
  'spam' | 'virus' | 'malformed' | 'quarantined' | 'policy' | 'blocked' | 'authentication_failed'

export interface SearchFilter {
  since?: number
  until?: number
  envelopeSenders: TextCondition[]
  envelopeRecipients: TextCondition[]
  subjects: TextCondition[]
  mids: number[]
  messageId?: string
  senderIp?: string
  attachmentNames: TextCondition[]
  attachmentHashes: string[]
  urls: string[]
  urlDomains: string[]
  domains: string[]
  /** Envelope sender domains only. */
  senderDomains: string[]
  verdicts: VerdictFilter[]
  direction?: 'incoming' | 'outgoing'
  statuses: string[]
}

/** A filter that matches every message, with `conditions` added (each search starts here). */
export function searchFilter(conditions: Partial<SearchFilter> = {}): SearchFilter {
  return {
    envelopeSenders: [],
    envelopeRecipients: [],
    subjects: [],
    mids: [],
    attachmentNames: [],
    attachmentHashes: [],
    urls: [],
    urlDomains: [],
    domains: [],
    senderDomains: [],
    verdicts: [],
    statuses: [],
    ...conditions,
  }
}

export interface SearchPage {
  sort: { field: 'received_at' | 'mid' | 'size' | 'sender' | 'subject'; order: 'asc' | 'desc' }
  limit: number
  offset: number
}

export interface SearchRow {
  mid: number
  icid: number
  receivedAt: number
  direction: string
  senderIp: string
  envelopeSender: string
  senderDomain: string | null
  recipients: string[]
  recipientCount: number
  subject: string | null
  messageId: string | null
  status: string
  size: number
  verdicts: string[]
  policy: string | null
}

export interface MessageDetail {
  message: Omit<SearchRow, 'recipients' | 'verdicts' | 'policy'> & {
    listener: string
    senderGroup: string | null
    hatPolicy: string | null
    senderRdns: string | null
    helo: string | null
    tls: string | null
    authUser: string | null
    headerFrom: string | null
    headerTo: string | null
    headerReplyTo: string | null
    reply: string | null
  }
  recipients: {
    index: number
    address: string
    domain: string
    status: string
    lastReply: string | null
    attempts: number
    updatedAt: number
  }[]
  events: {
    id: number
    at: number
    mid: number | null
    icid: number | null
    dcid: number | null
    event: string
    recipient: string | null
    details: Record<string, unknown>
  }[]
  analysis: {
    verdicts: string[]
    flags: Record<
      'spam' | 'virus' | 'malformed' | 'blocked' | 'phish' | 'authFailed' | 'quarantined',
      boolean
    >
    spf: string | null
    dkim: string | null
    dmarc: string | null
    policy: string | null
    summary: Record<string, unknown>
  } | null
  urls: { url: string; host: string; domain: string; sources: string[] }[]
  attachments: {
    index: number
    parentIndex: number | null
    part: string
    filename: string | null
    declaredType: string | null
    sniffedType: string | null
    size: number
    sha256: string | null
    md5: string | null
    sha1: string | null
    encrypted: boolean
    macros: boolean
  }[]
}

/** Counting stops here: beyond it the total is reported as "more than". */
export const SEARCH_COUNT_CAP = 10_000

/** Long values are indexed by their first characters (PostgreSQL B-tree entries are limited). */
export const INDEX_PREFIX = 200

// The columns this repository reads, from the tracking (0100) and content (0200) migrations.
interface ReadSchema {
  messages: {
    mid: number
    icid: number
    received_at: number
    direction: string
    sender_ip: string
    envelope_sender: string
    sender_domain: string | null
    message_id: string | null
    subject: string | null
    header_from: string | null
    header_to: string | null
    header_reply_to: string | null
    sender_rdns: string | null
    helo: string | null
    tls: string | null
    auth_user: string | null
    listener: string
    sender_group: string | null
    hat_policy: string | null
    size: number
    recipient_count: number
    status: string
    reply: string | null
  }
  message_recipients: {
    mid: number
    received_at: number
    rcpt_index: number
    recipient: string
    domain: string
    status: string
    last_reply: string | null
    attempts: number
    updated_at: number
  }
  message_analysis: {
    mid: number
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
    policy: string | null
    summary: string
  }
  message_events: {
    id: number
    at: number
    mid: number | null
    icid: number | null
    dcid: number | null
    event: string
    recipient: string | null
    details: string
  }
  message_urls: {
    mid: number
    received_at: number
    idx: number
    url: string
    host: string
    domain: string
    sources: string
  }
  message_attachments: {
    mid: number
    received_at: number
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
  }
}

type Db = Kysely<ReadSchema>

/**
 * `(m.mid, m.received_at) in`, before a subquery over a table that carries its message's received
 * time (message_recipients since migration 1100, message_urls and message_attachments since
 * 1300): on PostgreSQL the time picks the one week of `messages` each match is looked up in
 * (run-time partition pruning) instead of probing every week's index.
 */
const IN_MESSAGE_WEEK = sql`(m.mid, m.received_at) in`

/** The columns of `messages` a search page shows. */
const PAGE_COLUMNS = [
  'mid',
  'icid',
  'received_at',
  'direction',
  'sender_ip',
  'envelope_sender',
  'sender_domain',
  'recipient_count',
  'subject',
  'message_id',
  'status',
  'size',
] as const
type Condition = Expression<SqlBool>

export class TrackingSearchRepository {
  private readonly db: Db

  constructor(
    db: Kysely<GatewaySchema>,
    private readonly dialect: Dialect,
  ) {
    this.db = db as unknown as Db
  }

  /** One page of matching messages and the total (capped at SEARCH_COUNT_CAP). */
  async search(
    filter: SearchFilter,
    page: SearchPage,
  ): Promise<{ rows: SearchRow[]; total: number; totalIsCapped: boolean }> {
    const rows = await this.page(filter, page)
    const counted = await this.db
      .selectFrom((eb) =>
        eb
          .selectFrom('messages as m')
          .leftJoin('message_analysis as a', 'a.mid', 'm.mid')
          .select(sql<number>`1`.as('one'))
          .where(this.conditions(filter))
          .limit(SEARCH_COUNT_CAP + 1)
          .as('capped'),
      )
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
    const total = Number(counted.n)
    return {
      rows,
      total: Math.min(total, SEARCH_COUNT_CAP),
      totalIsCapped: total > SEARCH_COUNT_CAP,
    }
  }

  /**
   * One page of matching messages without the total — what an observable lookup needs: the
   * count visits every match (up to SEARCH_COUNT_CAP), the page only its own rows.
   */
  async page(filter: SearchFilter, page: SearchPage): Promise<SearchRow[]> {
    const sortColumn = {
      received_at: sql.ref('m.received_at'),
      mid: sql.ref('m.mid'),
      size: sql.ref('m.size'),
      sender: sql.ref('m.envelope_sender'),
      subject: sql.ref('m.subject'),
    }[page.sort.field]
    const direction = page.sort.order === 'asc' ? sql`asc` : sql`desc`
    // The page is chosen from messages first and only its rows are joined to their analysis:
    // joined before the LIMIT, every match would be (a row read for each), not just the page.
    // The analysis is joined inside as well when the filter asks for verdicts.
    const matching = this.db.selectFrom('messages as m')
    const pageRows = (
      filter.verdicts.length > 0
        ? matching.leftJoin('message_analysis as a', 'a.mid', 'm.mid')
        : matching
    )
      .select(PAGE_COLUMNS.map((c) => `m.${c}` as const))
      .where(this.conditions(filter))
      .orderBy(sql`${sortColumn} ${direction}`)
      .orderBy(sql`m.mid ${direction}`)
      .limit(page.limit)
      .offset(page.offset)
    const rows = await this.db
      .selectFrom(pageRows.as('m'))
      .leftJoin('message_analysis as a', 'a.mid', 'm.mid')
      .select([...PAGE_COLUMNS.map((c) => `m.${c}` as const), 'a.verdicts', 'a.policy'])
      .orderBy(sql`${sortColumn} ${direction}`)
      .orderBy(sql`m.mid ${direction}`)
      .execute()
    const recipients = await this.recipientsOf(
      rows.map((r) => ({ mid: Number(r.mid), receivedAt: Number(r.received_at) })),
    )
    return rows.map((r) => ({
      mid: Number(r.mid),
      icid: Number(r.icid),
      receivedAt: Number(r.received_at),
      direction: r.direction,
      senderIp: r.sender_ip,
      envelopeSender: r.envelope_sender,
      senderDomain: r.sender_domain,
      recipients: recipients.get(Number(r.mid)) ?? [],
      recipientCount: Number(r.recipient_count),
      subject: r.subject,
      messageId: r.message_id,
      status: r.status,
      size: Number(r.size),
      verdicts: r.verdicts ? r.verdicts.split(',').filter(Boolean) : [],
      policy: r.policy ?? null,
    }))
  }

  /**
   * Everything tracking knows about one message, or null when the MID is unknown (or was not
   * received at `receivedAt`, when given).
   */
  async detail(mid: number, receivedAt?: number): Promise<MessageDetail | null> {
    // On PostgreSQL the received time names the message's week (migration 1100): a caller
    // that has it (a search row) spares the lookup every other week's index, and the
    // recipients are read from that week with it.
    let message = this.db.selectFrom('messages').selectAll().where('mid', '=', mid)
    if (receivedAt !== undefined) message = message.where('received_at', '=', receivedAt)
    const m = await message.executeTakeFirst()
    if (!m) return null
    const [recipients, events, analysis, urls, attachments] = await Promise.all([
      this.db
        .selectFrom('message_recipients')
        .selectAll()
        .where('mid', '=', mid)
        .where('received_at', '=', m.received_at)
        .orderBy('rcpt_index')
        .execute(),
      // The message's own events and those of its connection before the MID existed.
      this.db
        .selectFrom('message_events')
        .selectAll()
        .where((eb) =>
          eb.or([eb('mid', '=', mid), eb.and([eb('icid', '=', m.icid), eb('mid', 'is', null)])]),
        )
        .orderBy('at')
        .orderBy('id')
        .execute(),
      this.db.selectFrom('message_analysis').selectAll().where('mid', '=', mid).executeTakeFirst(),
      this.db
        .selectFrom('message_urls')
        .selectAll()
        .where('mid', '=', mid)
        .orderBy('idx')
        .execute(),
      this.db
        .selectFrom('message_attachments')
        .selectAll()
        .where('mid', '=', mid)
        .orderBy('idx')
        .execute(),
    ])
    return {
      message: {
        mid: Number(m.mid),
        icid: Number(m.icid),
        receivedAt: Number(m.received_at),
        direction: m.direction,
        senderIp: m.sender_ip,
        envelopeSender: m.envelope_sender,
        senderDomain: m.sender_domain,
        recipientCount: Number(m.recipient_count),
        subject: m.subject,
        messageId: m.message_id,
        status: m.status,
        size: Number(m.size),
        listener: m.listener,
        senderGroup: m.sender_group,
        hatPolicy: m.hat_policy,
        senderRdns: m.sender_rdns,
        helo: m.helo,
        tls: m.tls,
        authUser: m.auth_user,
        headerFrom: m.header_from,
        headerTo: m.header_to,
        headerReplyTo: m.header_reply_to,
        reply: m.reply,
      },
      recipients: recipients.map((r) => ({
        index: Number(r.rcpt_index),
        address: r.recipient,
        domain: r.domain,
        status: r.status,
        lastReply: r.last_reply,
        attempts: Number(r.attempts),
        updatedAt: Number(r.updated_at),
      })),
      events: events.map((e) => ({
        id: Number(e.id),
        at: Number(e.at),
        mid: e.mid === null ? null : Number(e.mid),
        icid: e.icid === null ? null : Number(e.icid),
        dcid: e.dcid === null ? null : Number(e.dcid),
        event: e.event,
        recipient: e.recipient,
        details: parseJson(e.details),
      })),
      analysis: analysis
        ? {
            verdicts: analysis.verdicts ? analysis.verdicts.split(',').filter(Boolean) : [],
            flags: {
              spam: Number(analysis.spam) === 1,
              virus: Number(analysis.virus) === 1,
              malformed: Number(analysis.malformed) === 1,
              blocked: Number(analysis.blocked) === 1,
              phish: Number(analysis.phish) === 1,
              authFailed: Number(analysis.auth_failed) === 1,
              quarantined: Number(analysis.quarantined) === 1,
            },
            spf: analysis.spf,
            dkim: analysis.dkim,
            dmarc: analysis.dmarc,
            policy: analysis.policy,
            summary: parseJson(analysis.summary),
          }
        : null,
      urls: urls.map((u) => ({
        url: u.url,
        host: u.host,
        domain: u.domain,
        sources: u.sources.split(',').filter(Boolean),
      })),
      attachments: attachments.map((t) => ({
        index: Number(t.idx),
        parentIndex: t.parent_idx === null ? null : Number(t.parent_idx),
        part: t.part,
        filename: t.filename,
        declaredType: t.declared_type,
        sniffedType: t.sniffed_type,
        size: Number(t.size),
        sha256: t.sha256,
        md5: t.md5,
        sha1: t.sha1,
        encrypted: Number(t.encrypted) === 1,
        macros: Number(t.macros) === 1,
      })),
    }
  }

  /** MIDs with their Message-ID and delivered recipients, for remediation and retro-remediation. */
  async deliveredTargets(
    mids: number[],
  ): Promise<
    { mid: number; messageId: string | null; recipients: string[]; receivedAt: number }[]
  > {
    if (mids.length === 0) return []
    const out: {
      mid: number
      messageId: string | null
      recipients: string[]
      receivedAt: number
    }[] = []
    for (let i = 0; i < mids.length; i += 500) {
      const chunk = mids.slice(i, i + 500)
      const messages = await this.db
        .selectFrom('messages')
        .select(['mid', 'message_id', 'received_at'])
        .where('mid', 'in', chunk)
        .execute()
      const rcpts = await this.db
        .selectFrom('message_recipients')
        .select(['mid', 'recipient'])
        .where('mid', 'in', chunk)
        .where('status', '=', 'delivered')
        .orderBy('mid')
        .orderBy('rcpt_index')
        .execute()
      const byMid = new Map<number, string[]>()
      for (const r of rcpts)
        byMid.set(Number(r.mid), [...(byMid.get(Number(r.mid)) ?? []), r.recipient])
      for (const m of messages) {
        out.push({
          mid: Number(m.mid),
          messageId: m.message_id,
          recipients: byMid.get(Number(m.mid)) ?? [],
          receivedAt: Number(m.received_at),
        })
      }
    }
    return out
  }

  /** MIDs whose Message-ID header is `messageId` (bracketed or not), newest first. */
  async midsByMessageId(messageId: string, limit = 1000): Promise<number[]> {
    const bare = messageId.trim().replace(/^<|>$/g, '')
    const rows = await this.db
      .selectFrom('messages')
      .select('mid')
      .where('message_id', 'in', [`<${bare}>`, bare])
      .orderBy('mid', 'desc')
      .limit(limit)
      .execute()
    return rows.map((r) => Number(r.mid))
  }

  /**
   * The WHERE clause of a filter over `messages m` (left-joined `message_analysis a`), shared by
   * the page, the count and the reports. Lists are OR-ed, filters AND-ed.
   */
  conditions(filter: SearchFilter): RawBuilder<SqlBool> {
    const all: Condition[] = []
    const ref = (column: string) => sql.ref(column)
    if (filter.since !== undefined) all.push(sql<SqlBool>`m.received_at >= ${filter.since}`)
    if (filter.until !== undefined) all.push(sql<SqlBool>`m.received_at < ${filter.until}`)
    if (filter.mids.length > 0) all.push(sql<SqlBool>`m.mid in (${sql.join(filter.mids)})`)
    if (filter.messageId !== undefined) {
      const bare = filter.messageId.trim().replace(/^<|>$/g, '')
      all.push(sql<SqlBool>`m.message_id in (${`<${bare}>`}, ${bare})`)
    }
    if (filter.senderIp !== undefined) all.push(sql<SqlBool>`m.sender_ip = ${filter.senderIp}`)
    if (filter.direction !== undefined) all.push(sql<SqlBool>`m.direction = ${filter.direction}`)
    if (filter.statuses.length > 0)
      all.push(sql<SqlBool>`m.status in (${sql.join(filter.statuses)})`)
    if (filter.envelopeSenders.length > 0) {
      all.push(
        anyOf(
          filter.envelopeSenders.map((c) =>
            this.text('messages_fts', 'envelope_sender', ref('m.envelope_sender'), c, 'm.mid'),
          ),
        ),
      )
    }
    if (filter.subjects.length > 0) {
      all.push(
        anyOf(
          filter.subjects.map((c) =>
            this.text('messages_fts', 'subject', ref('m.subject'), c, 'm.mid'),
          ),
        ),
      )
    }
    if (filter.envelopeRecipients.length > 0) {
      const inner = anyOf(
        filter.envelopeRecipients.map((c) =>
          this.text('message_recipients_fts', 'recipient', ref('r.recipient'), c, 'r.rowid'),
        ),
      )
      all.push(
        sql<SqlBool>`${IN_MESSAGE_WEEK} (select r.mid, r.received_at from message_recipients r where ${inner})`,
      )
    }
    if (filter.attachmentNames.length > 0) {
      const inner = anyOf(
        filter.attachmentNames.map((c) =>
          this.text('message_attachments_fts', 'filename', ref('t.filename'), c, 't.rowid'),
        ),
      )
      all.push(
        sql<SqlBool>`${IN_MESSAGE_WEEK} (select t.mid, t.received_at from message_attachments t where ${inner})`,
      )
    }
    if (filter.attachmentHashes.length > 0) {
      const byColumn = (length: number) =>
        filter.attachmentHashes.filter((h) => h.length === length)
      const parts: Condition[] = []
      for (const [column, length] of [
        ['sha256', 64],
        ['md5', 32],
        ['sha1', 40],
      ] as const) {
        const values = byColumn(length)
        if (values.length > 0) {
          parts.push(
            sql<SqlBool>`${IN_MESSAGE_WEEK} (select t.mid, t.received_at from message_attachments t where ${sql.ref(`t.${column}`)} in (${sql.join(values)}))`,
          )
        }
      }
      all.push(anyOf(parts))
    }
    if (filter.urls.length > 0) {
      const parts = filter.urls.map(
        (url) =>
          sql<SqlBool>`(substr(u.url, 1, ${sql.lit(INDEX_PREFIX)}) = ${url.slice(0, INDEX_PREFIX)} and u.url = ${url})`,
      )
      all.push(
        sql<SqlBool>`${IN_MESSAGE_WEEK} (select u.mid, u.received_at from message_urls u where ${anyOf(parts)})`,
      )
    }
    if (filter.urlDomains.length > 0) {
      all.push(
        sql<SqlBool>`${IN_MESSAGE_WEEK} (select u.mid, u.received_at from message_urls u where u.domain in (${sql.join(filter.urlDomains)}) or u.host in (${sql.join(filter.urlDomains)}))`,
      )
    }
    if (filter.domains.length > 0) {
      all.push(
        sql<SqlBool>`(m.sender_domain in (${sql.join(filter.domains)}) or ${IN_MESSAGE_WEEK} (select r.mid, r.received_at from message_recipients r where r.domain in (${sql.join(filter.domains)})))`,
      )
    }
    if (filter.senderDomains.length > 0) {
      all.push(sql<SqlBool>`m.sender_domain in (${sql.join(filter.senderDomains)})`)
    }
    if (filter.verdicts.length > 0) {
      const flag: Record<VerdictFilter, Condition> = {
        spam: sql<SqlBool>`a.spam = 1`,
        virus: sql<SqlBool>`a.virus = 1`,
        malformed: sql<SqlBool>`a.malformed = 1`,
        quarantined: sql<SqlBool>`a.quarantined = 1`,
        blocked: sql<SqlBool>`a.blocked = 1`,
        authentication_failed: sql<SqlBool>`a.auth_failed = 1`,
        // A policy acted on the message: any disposition other than plain delivery.
        policy: sql<SqlBool>`(a.policy is not null and a.policy <> '' and a.policy <> 'deliver')`,
      }
      all.push(anyOf(filter.verdicts.map((v) => flag[v])))
    }
    return all.length === 0 ? sql<SqlBool>`1 = 1` : sql<SqlBool>`(${sql.join(all, sql` and `)})`
  }

  /**
   * One text condition on a column, case-insensitive: `is` and `begins_with` on the
   * `lower(column)` B-tree index, `contains` on the trigram index (FTS5 table `ftsTable` on
   * SQLite, pg_trgm GIN on PostgreSQL).
   */
  private text(
    ftsTable: string,
    ftsColumn: string,
    column: Expression<unknown>,
    condition: TextCondition,
    rowid: string,
  ): Condition {
    const value = condition.value.toLowerCase()
    // The expression indexed by migration 0301: lower(column) cut to INDEX_PREFIX characters,
    // in the "C" collation on PostgreSQL so that a prefix is a contiguous range.
    const key =
      this.dialect === 'postgres'
        ? sql`substr(lower(${column}), 1, ${sql.lit(INDEX_PREFIX)}) collate "C"`
        : sql`substr(lower(${column}), 1, ${sql.lit(INDEX_PREFIX)})`
    const head = value.slice(0, INDEX_PREFIX)
    if (condition.operator === 'is') {
      // A value shorter than the indexed prefix is its own key (a longer column's prefix is
      // longer than it): comparing the whole column as well would only make PostgreSQL guess
      // one match per week, sort every match instead of reading the newest from the index.
      return value.length < INDEX_PREFIX
        ? sql<SqlBool>`${key} = ${head}`
        : sql<SqlBool>`(${key} = ${head} and lower(${column}) = ${value})`
    }
    if (condition.operator === 'begins_with') {
      const upper =
        head.slice(0, -1) + String.fromCodePoint((head.codePointAt(head.length - 1) ?? 0) + 1)
      const range = sql<SqlBool>`(${key} >= ${head} and ${key} < ${upper})`
      return value.length > INDEX_PREFIX
        ? sql<SqlBool>`(${range} and lower(${column}) like ${`${escapeLike(value)}%`} escape '\\')`
        : range
    }
    const pattern = `%${escapeLike(value)}%`
    if (this.dialect === 'postgres')
      return sql<SqlBool>`lower(${column}) like ${pattern} escape '\\'`
    // FTS5 trigram answers LIKE from its index for patterns of 3 characters or more
    // (sqlite.org/fts5.html §4.3.5); shorter ones are scanned, which stays correct. Without
    // wildcards in the value the pattern needs no ESCAPE clause.
    if (!/[\\%_]/.test(value)) {
      return sql<SqlBool>`${sql.ref(rowid)} in (select rowid from ${sql.table(ftsTable)} where ${sql.ref(ftsColumn)} like ${pattern})`
    }
    return sql<SqlBool>`${sql.ref(rowid)} in (select rowid from ${sql.table(ftsTable)} where ${sql.ref(ftsColumn)} like ${pattern} escape '\\')`
  }

  /**
   * The recipients of a page of messages, read week by week: on PostgreSQL message_recipients
   * is partitioned by received_at (migration 1100), and each part of the union names the
   * received times of one week's messages, so that the planner keeps that week alone and each
   * MID is looked up once — rather than in the index of every week.
   */
  private async recipientsOf(
    messages: { mid: number; receivedAt: number }[],
  ): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>()
    const weeks = new Map<number, { mids: number[]; times: Set<number> }>()
    for (const m of messages) {
      const week = partitionStart(m.receivedAt)
      const of = weeks.get(week) ?? { mids: [], times: new Set<number>() }
      of.mids.push(m.mid)
      of.times.add(m.receivedAt)
      weeks.set(week, of)
    }
    const parts = [...weeks.values()].map(({ mids, times }) =>
      this.db
        .selectFrom('message_recipients')
        .select(['mid', 'rcpt_index', 'recipient'])
        .where('mid', 'in', mids)
        .where('received_at', 'in', [...times]),
    )
    const [first, ...rest] = parts
    if (!first) return out
    const rows = await rest
      .reduce((union, part) => union.unionAll(part), first)
      .orderBy('mid')
      .orderBy('rcpt_index')
      .execute()
    for (const r of rows) out.set(Number(r.mid), [...(out.get(Number(r.mid)) ?? []), r.recipient])
    return out
  }
}

function parseJson(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : { value }
  } catch {
    return {}
  }
}

function anyOf(conditions: Condition[]): Condition {
  if (conditions.length === 1) return conditions[0] as Condition
  return sql<SqlBool>`(${sql.join(conditions, sql` or `)})`
}

export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`)
}
