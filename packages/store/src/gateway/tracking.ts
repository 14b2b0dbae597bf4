import { createHash } from 'node:crypto'
import { CompiledQuery, type Kysely } from 'kysely'
import type { Dialect } from '../database.js'
import { insertStatement, MAX_PARAMS, runRows, type RowsStatement } from './tracking-statements.js'
import type { GatewaySchema, MessageRecipientsTable, MessagesTable } from './schema.js'

/**
 * Message tracking storage. The gateway writes through `writeBatch` only — one transaction per
 * batch, multi-row statements — so that the SMTP hot path never waits for a row; readers
 * (API, console, hub enrichment) use the query methods.
 */

export type Direction = 'incoming' | 'outgoing'

/** Status of a whole message (MID). */
export type MessageStatus =
  | 'rejected'
  | 'aborted'
  | 'queued'
  | 'deferred'
  | 'held'
  | 'delivered'
  | 'bounced'
  | 'quarantined'
  | 'dropped'
  | 'deleted'
  | 'completed'

/** Status of one envelope recipient. */
export type RecipientStatus =
  | 'queued'
  | 'deferred'
  | 'held'
  | 'delivered'
  | 'bounced'
  | 'quarantined'
  | 'dropped'
  | 'redirected'
  | 'deleted'

/** Observable types of CTIM the gateway indexes; other areas add their own (url, sha256, …). */
export type ObservableType =
  | 'email'
  | 'domain'
  | 'ip'
  | 'ipv6'
  | 'cisco_mid'
  | 'email_messageid'
  | 'email_subject'
  | (string & {})

export interface NewMessage {
  mid: number
  icid: number
  receivedAt: number
  listener: string
  senderGroup: string | null
  hatPolicy: string | null
  direction: Direction
  senderIp: string
  senderRdns: string | null
  helo: string | null
  tls: string | null
  authUser: string | null
  envelopeSender: string
  messageId: string | null
  subject: string | null
  headerFrom: string | null
  headerTo: string | null
  headerReplyTo: string | null
  size: number
  status: MessageStatus
  /** Last change of `status` (defaults to `receivedAt`). */
  updatedAt?: number
  /** The final reply line for rejected transactions. */
  reply: string | null
  recipients: readonly NewRecipient[]
}

export interface NewRecipient {
  address: string
  status: RecipientStatus
  lastReply?: string | null
  attempts?: number
}

export interface NewEvent {
  at: number
  event: string
  mid?: number | null
  icid?: number | null
  dcid?: number | null
  recipient?: string | null
  details?: Record<string, unknown>
}

export interface NewObservable {
  type: ObservableType
  value: string
  mid: number
  at: number
}

export interface ObservableLookupOptions {
  limit?: number
  since?: number
  until?: number
}

export interface MessageUpdate {
  mid: number
  status: MessageStatus
  at: number
}

export interface RecipientUpdate {
  mid: number
  index: number
  status: RecipientStatus
  at: number
  /** The remote server's reply or our reason, as one line. */
  lastReply?: string | null
  /** Delivery attempts to add to the recipient's counter. */
  attempts?: number
}

/** Rows of another area's table written in the same transaction (e.g. pipeline verdicts). */
export interface ExtraRows {
  table: string
  rows: Record<string, unknown>[]
}

export interface TrackingBatch {
  messages: NewMessage[]
  events: NewEvent[]
  observables: NewObservable[]
  messageUpdates: MessageUpdate[]
  recipientUpdates: RecipientUpdate[]
  extra: ExtraRows[]
}

export function emptyBatch(): TrackingBatch {
  return {
    messages: [],
    events: [],
    observables: [],
    messageUpdates: [],
    recipientUpdates: [],
    extra: [],
  }
}

export function batchRowCount(batch: TrackingBatch): number {
  let rows = batch.events.length + batch.observables.length
  for (const m of batch.messages) rows += 1 + m.recipients.length
  rows += batch.messageUpdates.length + batch.recipientUpdates.length
  for (const e of batch.extra) rows += e.rows.length
  return rows
}

const OBSERVABLE_KEY_MAX = 200

/**
 * The indexed form of an observable value: the value itself when short, otherwise a prefix
 * and the SHA-256 of the whole value (so that the index never exceeds B-tree limits).
 */
export function observableKey(value: string): string {
  if (value.length <= OBSERVABLE_KEY_MAX) return value
  const digest = createHash('sha256').update(value).digest('hex')
  return `${value.slice(0, 120)}…sha256:${digest}`
}

/** Lower-cases what CTIM treats case-insensitively (addresses, domains); keeps the rest. */
export function normaliseObservable(type: string, value: string): string {
  const trimmed = value.trim()
  return type === 'email' || type === 'domain' ? trimmed.toLowerCase() : trimmed
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@')
  return at >= 0 ? address.slice(at + 1).toLowerCase() : ''
}

function chunk<T>(rows: readonly T[], columns: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_PARAMS / columns))
  const out: T[][] = []
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size))
  return out
}

const INSERT_MESSAGE = insertStatement(
  'messages',
  [
    'mid',
    'icid',
    'received_at',
    'updated_at',
    'listener',
    'sender_group',
    'hat_policy',
    'direction',
    'sender_ip',
    'sender_rdns',
    'helo',
    'tls',
    'auth_user',
    'envelope_sender',
    'sender_domain',
    'message_id',
    'subject',
    'header_from',
    'header_to',
    'header_reply_to',
    'size',
    'recipient_count',
    'status',
    'reply',
  ],
  // The key is (mid) on SQLite, (mid, received_at) on partitioned PostgreSQL (migration 1100);
  // a message written again matches either.
  {
    onConflictDoNothing: true,
    types: [
      ...['bigint', 'bigint', 'bigint', 'bigint'],
      ...Array<string>(16).fill('text'),
      ...['bigint', 'integer', 'text', 'text'],
    ],
  },
)

const INSERT_RECIPIENT = insertStatement(
  'message_recipients',
  [
    'mid',
    'rcpt_index',
    'recipient',
    'domain',
    'status',
    'last_reply',
    'attempts',
    'updated_at',
    'received_at',
  ],
  {
    onConflictDoNothing: true,
    types: ['bigint', 'integer', 'text', 'text', 'text', 'text', 'integer', 'bigint', 'bigint'],
  },
)

const INSERT_EVENT = insertStatement(
  'message_events',
  ['at', 'mid', 'icid', 'dcid', 'event', 'recipient', 'details'],
  {
    onConflictDoNothing: false,
    types: ['bigint', 'bigint', 'bigint', 'bigint', 'text', 'text', 'text'],
  },
)

const INSERT_OBSERVABLE = insertStatement(
  'observables',
  ['type', 'value_key', 'value', 'mid', 'at'],
  { onConflictDoNothing: true, types: ['text', 'text', 'text', 'bigint', 'bigint'] },
)

// WITH v AS (VALUES …) UPDATE … FROM v works on PostgreSQL and on SQLite ≥ 3.33: one statement
// per chunk instead of one per row (a round trip each on PostgreSQL).
const UPDATE_MESSAGES: RowsStatement = {
  head: 'with v(mid, status, at) as (values ',
  tail: `) update messages set status = v.status, updated_at = v.at
    from v where messages.mid = v.mid`,
  row: ['cast(? as bigint)', 'cast(? as text)', 'cast(? as bigint)'],
  unnest: {
    types: ['bigint', 'text', 'bigint'],
    head: 'with v(mid, status, at) as (select * from ',
  },
}

const UPDATE_RECIPIENTS: RowsStatement = {
  head: 'with v(mid, rcpt_index, status, last_reply, attempts, at) as (values ',
  tail: `) update message_recipients set status = v.status,
      last_reply = coalesce(v.last_reply, message_recipients.last_reply),
      attempts = message_recipients.attempts + v.attempts,
      updated_at = v.at
    from v where message_recipients.mid = v.mid and message_recipients.rcpt_index = v.rcpt_index`,
  row: [
    'cast(? as bigint)',
    'cast(? as integer)',
    'cast(? as text)',
    'cast(? as text)',
    'cast(? as integer)',
    'cast(? as bigint)',
  ],
  unnest: {
    types: ['bigint', 'integer', 'text', 'text', 'integer', 'bigint'],
    head: 'with v(mid, rcpt_index, status, last_reply, attempts, at) as (select * from ',
  },
}

/** Statements for other areas' tables, one per table and column list. */
const extraStatements = new Map<string, RowsStatement>()

function extraStatement(table: string, columns: readonly string[]): RowsStatement {
  const key = `${table}\u0000${columns.join('\u0000')}`
  let statement = extraStatements.get(key)
  if (!statement) {
    statement = insertStatement(table, columns, { onConflictDoNothing: true })
    extraStatements.set(key, statement)
  }
  return statement
}

export interface TrackedRecipient {
  index: number
  address: string
  domain: string
  status: RecipientStatus
  lastReply: string | null
  attempts: number
  updatedAt: number
}

export interface TrackedMessage {
  mid: number
  icid: number
  receivedAt: number
  updatedAt: number
  listener: string
  senderGroup: string | null
  hatPolicy: string | null
  direction: Direction
  senderIp: string
  senderRdns: string | null
  helo: string | null
  tls: string | null
  authUser: string | null
  envelopeSender: string
  senderDomain: string | null
  messageId: string | null
  subject: string | null
  headerFrom: string | null
  headerTo: string | null
  headerReplyTo: string | null
  size: number
  recipientCount: number
  status: MessageStatus
  reply: string | null
  recipients: TrackedRecipient[]
}

export interface TrackingEvent {
  id: number
  at: number
  mid: number | null
  icid: number | null
  dcid: number | null
  event: string
  recipient: string | null
  details: Record<string, unknown>
}

export class TrackingStore {
  constructor(
    private readonly db: Kysely<GatewaySchema>,
    private readonly dialect: Dialect,
  ) {}

  /** Writes a batch in one transaction; on error nothing of it is written. */
  async writeBatch(batch: TrackingBatch): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const db = trx as unknown as Kysely<unknown>
      await this.insertMessages(db, batch.messages)
      await this.insertEvents(db, batch.events)
      await this.insertObservables(db, batch.observables)
      await this.applyMessageUpdates(db, batch.messageUpdates)
      await this.applyRecipientUpdates(db, batch.recipientUpdates)
      for (const extra of batch.extra) await this.insertExtra(db, extra)
    })
  }

  private async insertMessages(
    db: Kysely<unknown>,
    messages: readonly NewMessage[],
  ): Promise<void> {
    if (messages.length === 0) return
    const rows: unknown[] = []
    const recipients: unknown[] = []
    for (const m of messages) {
      const updatedAt = m.updatedAt ?? m.receivedAt
      rows.push(
        m.mid,
        m.icid,
        m.receivedAt,
        updatedAt,
        m.listener,
        m.senderGroup,
        m.hatPolicy,
        m.direction,
        m.senderIp,
        m.senderRdns,
        m.helo,
        m.tls,
        m.authUser,
        m.envelopeSender,
        m.envelopeSender ? domainOf(m.envelopeSender) : null,
        m.messageId,
        m.subject,
        m.headerFrom,
        m.headerTo,
        m.headerReplyTo,
        m.size,
        m.recipients.length,
        m.status,
        m.reply,
      )
      m.recipients.forEach((r, index) =>
        recipients.push(
          m.mid,
          index,
          r.address,
          domainOf(r.address),
          r.status,
          r.lastReply ?? null,
          r.attempts ?? 0,
          updatedAt,
          m.receivedAt,
        ),
      )
    }
    await runRows(db, this.dialect, INSERT_MESSAGE, rows)
    await runRows(db, this.dialect, INSERT_RECIPIENT, recipients)
  }

  private async insertEvents(db: Kysely<unknown>, events: readonly NewEvent[]): Promise<void> {
    if (events.length === 0) return
    const rows: unknown[] = []
    for (const e of events) {
      rows.push(
        e.at,
        e.mid ?? null,
        e.icid ?? null,
        e.dcid ?? null,
        e.event,
        e.recipient ?? null,
        JSON.stringify(e.details ?? {}),
      )
    }
    await runRows(db, this.dialect, INSERT_EVENT, rows)
  }

  private async insertObservables(
    db: Kysely<unknown>,
    observables: readonly NewObservable[],
  ): Promise<void> {
    if (observables.length === 0) return
    // One statement may not touch the same key twice under ON CONFLICT in PostgreSQL.
    const unique = new Map<string, unknown[]>()
    for (const o of observables) {
      const value = normaliseObservable(o.type, o.value)
      if (value.length === 0) continue
      const key = observableKey(value)
      unique.set(`${o.type}\u0000${key}\u0000${o.mid}`, [o.type, key, value, o.mid, o.at])
    }
    await runRows(db, this.dialect, INSERT_OBSERVABLE, [...unique.values()].flat())
  }

  private async applyMessageUpdates(
    db: Kysely<unknown>,
    updates: readonly MessageUpdate[],
  ): Promise<void> {
    if (updates.length === 0) return
    const rows: unknown[] = []
    for (const u of updates) rows.push(u.mid, u.status, u.at)
    await runRows(db, this.dialect, UPDATE_MESSAGES, rows)
  }

  private async applyRecipientUpdates(
    db: Kysely<unknown>,
    updates: readonly RecipientUpdate[],
  ): Promise<void> {
    if (updates.length === 0) return
    const rows: unknown[] = []
    for (const u of updates) {
      rows.push(u.mid, u.index, u.status, u.lastReply ?? null, u.attempts ?? 0, u.at)
    }
    await runRows(db, this.dialect, UPDATE_RECIPIENTS, rows)
  }

  /**
   * Another area's rows. A message processed again after a crash writes the same rows again:
   * the first write stands, and the batch (with everyone else's rows) is not refused for it.
   */
  private async insertExtra(db: Kysely<unknown>, extra: ExtraRows): Promise<void> {
    if (extra.rows.length === 0) return
    const columns = Object.keys(extra.rows[0] as object)
    const complete = extra.rows.every(
      (row) =>
        Object.keys(row).length === columns.length &&
        columns.every((column) => row[column] !== undefined),
    )
    if (!complete) {
      // Rows with columns of their own or left out take the builder, which fills the gaps
      // with each column's default; the pipeline's rows always have the same columns.
      for (const part of chunk(extra.rows, columns.length)) {
        await (db as Kysely<Record<string, Record<string, unknown>>>)
          .insertInto(extra.table)
          .values(part)
          .onConflict((oc) => oc.doNothing())
          .execute()
      }
      return
    }
    const values: unknown[] = []
    for (const row of extra.rows) for (const column of columns) values.push(row[column])
    await runRows(db, this.dialect, extraStatement(extra.table, columns), values)
  }

  /**
   * The highest MID, ICID and DCID used so far — within one node's id range when gateways of a
   * cluster share this database (each numbers its messages in its own range).
   */
  async highestIds(
    range: IdRange = FULL_ID_RANGE,
  ): Promise<{ mid: number; icid: number; dcid: number }> {
    const m = await this.db
      .selectFrom('messages')
      .select((eb) => [eb.fn.max('mid').as('mid')])
      .where('mid', '>=', range.from)
      .where('mid', '<', range.below)
      .executeTakeFirst()
    const mi = await this.db
      .selectFrom('messages')
      .select((eb) => [eb.fn.max('icid').as('icid')])
      .where('icid', '>=', range.from)
      .where('icid', '<', range.below)
      .executeTakeFirst()
    const ei = await this.db
      .selectFrom('message_events')
      .select((eb) => [eb.fn.max('icid').as('icid')])
      .where('icid', '>=', range.from)
      .where('icid', '<', range.below)
      .executeTakeFirst()
    const e = await this.db
      .selectFrom('message_events')
      .select((eb) => [eb.fn.max('dcid').as('dcid')])
      .where('dcid', '>=', range.from)
      .where('dcid', '<', range.below)
      .executeTakeFirst()
    return {
      mid: Number(m?.mid ?? 0),
      icid: Math.max(Number(mi?.icid ?? 0), Number(ei?.icid ?? 0)),
      dcid: Number(e?.dcid ?? 0),
    }
  }

  /**
   * Retention: deletes up to `limit` messages received before `before` within one node's id
   * range, with every row that hangs off them (recipients, events, observables, the content
   * pipeline's analysis, URLs and attachments), in one transaction. The node's newest message
   * is always kept: it carries the node's highest ids, which a restart continues after.
   * Quarantined copies and remediation history have retentions of their own. Returns the
   * number of messages deleted; call again while it returns `limit`.
   *
   * On PostgreSQL only the default partition is purged here (rows that had no week when they
   * were written): whole weeks go with `TrackingPartitions.dropBefore`.
   */
  async purgeBefore(
    before: number,
    limit: number,
    range: IdRange = FULL_ID_RANGE,
  ): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const newest = await trx
        .selectFrom('messages')
        .select((eb) => eb.fn.max('mid').as('mid'))
        .where('mid', '>=', range.from)
        .where('mid', '<', range.below)
        .executeTakeFirst()
      if (newest?.mid === null || newest?.mid === undefined) return 0
      const messages = this.dialect === 'postgres' ? 'messages_default' : 'messages'
      const rows = await (trx as unknown as Kysely<Pick<GatewaySchema, 'messages'>>)
        .selectFrom(messages as 'messages')
        .select('mid')
        .where('received_at', '<', before)
        .where('mid', '>=', range.from)
        .where('mid', '<', Number(newest.mid))
        .orderBy('received_at')
        .limit(limit)
        .execute()
      const mids = rows.map((r) => Number(r.mid))
      if (mids.length === 0) return 0
      for (const part of chunk(mids, 1)) {
        for (const table of PURGED_WITH_MESSAGE) {
          await trx.deleteFrom(table).where('mid', 'in', part).execute()
        }
        await trx.deleteFrom('messages').where('mid', 'in', part).execute()
      }
      return mids.length
    })
  }

  async getMessage(mid: number): Promise<TrackedMessage | undefined> {
    const row = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('mid', '=', mid)
      .executeTakeFirst()
    if (!row) return undefined
    const recipients = await this.db
      .selectFrom('message_recipients')
      .selectAll()
      .where('mid', '=', mid)
      .orderBy('rcpt_index')
      .execute()
    return toTrackedMessage(row, recipients)
  }

  /** Newest first; `before` pages by MID. */
  async listMessages(
    options: { limit?: number; before?: number; status?: MessageStatus } = {},
  ): Promise<TrackedMessage[]> {
    let q = this.db.selectFrom('messages').selectAll()
    if (options.before !== undefined) q = q.where('mid', '<', options.before)
    if (options.status !== undefined) q = q.where('status', '=', options.status)
    const rows = await q
      .orderBy('mid', 'desc')
      .limit(Math.min(options.limit ?? 50, 1000))
      .execute()
    if (rows.length === 0) return []
    const recipients = await this.db
      .selectFrom('message_recipients')
      .selectAll()
      .where(
        'mid',
        'in',
        rows.map((r) => r.mid),
      )
      .orderBy('mid')
      .orderBy('rcpt_index')
      .execute()
    const byMid = new Map<number, MessageRecipientsTable[]>()
    for (const r of recipients) {
      const list = byMid.get(r.mid) ?? []
      list.push(r)
      byMid.set(r.mid, list)
    }
    return rows.map((row) => toTrackedMessage(row, byMid.get(row.mid) ?? []))
  }

  /** The timeline of a message: its own events and those of its injection connection. */
  async listEvents(mid: number): Promise<TrackingEvent[]> {
    const message = await this.db
      .selectFrom('messages')
      .select(['icid'])
      .where('mid', '=', mid)
      .executeTakeFirst()
    let q = this.db.selectFrom('message_events').selectAll()
    q =
      message === undefined
        ? q.where('mid', '=', mid)
        : q.where((eb) =>
            eb.or([
              eb('mid', '=', mid),
              eb.and([eb('icid', '=', message.icid), eb('mid', 'is', null)]),
            ]),
          )
    const rows = await q.orderBy('at').orderBy('id').execute()
    return rows.map((r) => ({
      id: Number(r.id),
      at: Number(r.at),
      mid: r.mid === null ? null : Number(r.mid),
      icid: r.icid === null ? null : Number(r.icid),
      dcid: r.dcid === null ? null : Number(r.dcid),
      event: r.event,
      recipient: r.recipient,
      details: JSON.parse(r.details) as Record<string, unknown>,
    }))
  }

  /** MIDs carrying an observable, newest first (exact match on the normalised value). */
  async findByObservable(
    type: ObservableType,
    value: string,
    options: ObservableLookupOptions = {},
  ): Promise<number[]> {
    const rows = await this.observableLookup(this.db, type, value, options).execute()
    return rows.map((r) => Number(r.mid))
  }

  /**
   * The plan of `findByObservable` (PostgreSQL `EXPLAIN`, SQLite `EXPLAIN QUERY PLAN`), one
   * line each: the benchmark and tests check that it stays an index scan in every partition.
   * `db` may be a transaction with planner settings of its own; `analyze` (PostgreSQL) runs
   * the query and adds the planning and execution times of the server.
   */
  async explainFindByObservable(
    type: ObservableType,
    value: string,
    options: { db?: Kysely<GatewaySchema>; analyze?: boolean } = {},
  ): Promise<string[]> {
    const db = options.db ?? this.db
    const query = this.observableLookup(db, type, value, {}).compile()
    const explain =
      this.dialect === 'sqlite'
        ? 'explain query plan '
        : options.analyze
          ? 'explain analyze '
          : 'explain '
    const result = await db.executeQuery<Record<string, unknown>>(
      CompiledQuery.raw(explain + query.sql, [...query.parameters]),
    )
    return result.rows.map((r) => String(r['QUERY PLAN'] ?? r.detail))
  }

  private observableLookup(
    db: Kysely<GatewaySchema>,
    type: ObservableType,
    value: string,
    options: ObservableLookupOptions,
  ) {
    const normalised = normaliseObservable(type, value)
    const key = observableKey(normalised)
    let q = db
      .selectFrom('observables')
      .select('mid')
      .where('type', '=', type)
      .where('value_key', '=', key)
    // A short value is its own key: comparing `value` too would only make PostgreSQL read every
    // matching row from the table instead of answering from the index alone.
    if (key !== normalised) q = q.where('value', '=', normalised)
    if (options.since !== undefined) q = q.where('at', '>=', options.since)
    if (options.until !== undefined) q = q.where('at', '<', options.until)
    return q.orderBy('mid', 'desc').limit(Math.min(options.limit ?? 100, 10_000))
  }

  /** The observables recorded for a message. */
  async listObservables(mid: number): Promise<{ type: string; value: string }[]> {
    const rows = await this.db
      .selectFrom('observables')
      .select(['type', 'value'])
      .where('mid', '=', mid)
      .orderBy('type')
      .orderBy('value')
      .execute()
    return rows
  }
}

function toTrackedMessage(
  row: MessagesTable,
  recipients: readonly MessageRecipientsTable[],
): TrackedMessage {
  return {
    mid: Number(row.mid),
    icid: Number(row.icid),
    receivedAt: Number(row.received_at),
    updatedAt: Number(row.updated_at),
    listener: row.listener,
    senderGroup: row.sender_group,
    hatPolicy: row.hat_policy,
    direction: row.direction as Direction,
    senderIp: row.sender_ip,
    senderRdns: row.sender_rdns,
    helo: row.helo,
    tls: row.tls,
    authUser: row.auth_user,
    envelopeSender: row.envelope_sender,
    senderDomain: row.sender_domain,
    messageId: row.message_id,
    subject: row.subject,
    headerFrom: row.header_from,
    headerTo: row.header_to,
    headerReplyTo: row.header_reply_to,
    size: Number(row.size),
    recipientCount: Number(row.recipient_count),
    status: row.status as MessageStatus,
    reply: row.reply,
    recipients: recipients.map((r) => ({
      index: Number(r.rcpt_index),
      address: r.recipient,
      domain: r.domain,
      status: r.status as RecipientStatus,
      lastReply: r.last_reply,
      attempts: Number(r.attempts),
      updatedAt: Number(r.updated_at),
    })),
  }
}

/** Tables whose rows belong to one tracked message and go with it (`purgeBefore`). */
export const PURGED_WITH_MESSAGE = [
  'message_recipients',
  'message_events',
  'observables',
  'message_analysis',
  'message_urls',
  'message_attachments',
] as const

/** Ids (MID, ICID, DCID) each gateway node of a cluster numbers in: 2^40 per node. */
export const NODE_ID_SPACE = 2 ** 40

/** Node numbers keep every id below 2^53, the largest integer a JavaScript number holds exactly. */
export const MAX_NODE_NUMBER = 4095

export interface IdRange {
  from: number
  below: number
}

const FULL_ID_RANGE: IdRange = { from: 0, below: Number.MAX_SAFE_INTEGER }

/** The ids of gateway node `node` (0 for a standalone gateway: the ids it always used). */
export function nodeIdRange(node: number): IdRange {
  return { from: node * NODE_ID_SPACE, below: (node + 1) * NODE_ID_SPACE }
}
