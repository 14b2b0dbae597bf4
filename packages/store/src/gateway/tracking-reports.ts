import { sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely'
import type { Dialect } from '../database.js'
import type { GatewaySchema } from './schema.js'
import type { SearchFilter } from './tracking-search.js'
import { TrackingSearchRepository } from './tracking-search.js'

export interface VerdictCounts {
  total: number
  clean: number
  spam: number
  virus: number
  malformed: number
  blocked: number
  phish: number
  authFailed: number
  quarantined: number
  policy: number
}

export interface Ranked {
  value: string
  count: number
}

export interface RelationshipGraph {
  nodes: { id: string; kind: 'sender' | 'recipient'; address: string; messages: number }[]
  edges: { source: string; target: string; messages: number }[]
}

export interface TrackingReport {
  range: { since: number; until: number; bucketMs: number }
  timeline: { start: number; incoming: VerdictCounts; outgoing: VerdictCounts }[]
  totals: { incoming: VerdictCounts; outgoing: VerdictCounts }
  topSenders: Ranked[]
  topSenderDomains: Ranked[]
  topRecipients: Ranked[]
  topThreats: { urls: Ranked[]; domains: Ranked[]; hashes: Ranked[] }
  relationships: RelationshipGraph
}

export interface ReportOptions {
  since: number
  until: number
  bucketMs: number
  top: number
  graphLimit: number
}

const FLAGS = [
  ['spam', sql`a.spam = 1`],
  ['virus', sql`a.virus = 1`],
  ['malformed', sql`a.malformed = 1`],
  ['blocked', sql`a.blocked = 1`],
  ['phish', sql`a.phish = 1`],
  ['authFailed', sql`a.auth_failed = 1`],
  ['quarantined', sql`a.quarantined = 1`],
  ['policy', sql`(a.policy is not null and a.policy <> '' and a.policy <> 'deliver')`],
] as const

/** A message counts as a threat (for "top threats") when it was spam, a virus, phishing or blocked. */
const THREAT = sql<SqlBool>`(a.spam = 1 or a.virus = 1 or a.phish = 1 or a.blocked = 1)`

/**
 * Email reporting over tracking: counts by verdict per time bucket and direction, top senders,
 * sender domains, targeted recipients and threats, and the sender→recipient relationship graph.
 * Every part takes the same filter as the tracking search.
 */
export class TrackingReportRepository {
  private readonly search: TrackingSearchRepository

  constructor(
    private readonly db: Kysely<GatewaySchema>,
    dialect: Dialect,
  ) {
    this.search = new TrackingSearchRepository(db, dialect)
  }

  async report(filter: SearchFilter, options: ReportOptions): Promise<TrackingReport> {
    const where = this.search.conditions({ ...filter, since: options.since, until: options.until })
    const [
      timeline,
      topSenders,
      topSenderDomains,
      topRecipients,
      urls,
      domains,
      hashes,
      relationships,
    ] = await Promise.all([
      this.timeline(where, options),
      this.ranked(sql`lower(m.envelope_sender)`, where, sql`m.envelope_sender <> ''`, options.top),
      this.ranked(
        sql`m.sender_domain`,
        where,
        sql`m.sender_domain is not null and m.sender_domain <> ''`,
        options.top,
      ),
      this.rankedRecipients(where, options.top),
      this.rankedThreat('message_urls', sql`x.url`, where, options.top),
      this.rankedThreat('message_urls', sql`x.domain`, where, options.top),
      this.rankedThreat('message_attachments', sql`x.sha256`, where, options.top),
      this.relationships(where, options.graphLimit),
    ])
    const totals = { incoming: emptyCounts(), outgoing: emptyCounts() }
    for (const bucket of timeline) {
      addCounts(totals.incoming, bucket.incoming)
      addCounts(totals.outgoing, bucket.outgoing)
    }
    return {
      range: { since: options.since, until: options.until, bucketMs: options.bucketMs },
      timeline,
      totals,
      topSenders,
      topSenderDomains,
      topRecipients,
      topThreats: { urls, domains, hashes },
      relationships,
    }
  }

  private async timeline(
    where: RawBuilder<SqlBool>,
    options: ReportOptions,
  ): Promise<TrackingReport['timeline']> {
    const flagSums = sql.join(
      FLAGS.map(
        ([name, condition]) =>
          sql`sum(case when ${condition} then 1 else 0 end) as ${sql.ref(name)}`,
      ),
    )
    const anyFlag = sql.join(
      FLAGS.map(([, condition]) => condition),
      sql` or `,
    )
    const rows = await sql<Record<string, number | string>>`
      select cast((m.received_at - ${options.since}) / ${options.bucketMs} as integer) as bucket,
             m.direction as direction,
             count(*) as total,
             sum(case when a.mid is null or not (${anyFlag}) then 1 else 0 end) as clean,
             ${flagSums}
        from messages m left join message_analysis a on a.mid = m.mid
       where ${where}
       group by 1, 2`.execute(this.db)
    const buckets = Math.max(1, Math.ceil((options.until - options.since) / options.bucketMs))
    const timeline = Array.from({ length: buckets }, (_, i) => ({
      start: options.since + i * options.bucketMs,
      incoming: emptyCounts(),
      outgoing: emptyCounts(),
    }))
    for (const row of rows.rows) {
      const slot = timeline[Number(row.bucket)]
      if (!slot) continue
      const counts = row.direction === 'outgoing' ? slot.outgoing : slot.incoming
      for (const key of Object.keys(counts) as (keyof VerdictCounts)[])
        counts[key] += Number(row[key] ?? 0)
    }
    return timeline
  }

  private async ranked(
    value: RawBuilder<unknown>,
    where: RawBuilder<SqlBool>,
    present: RawBuilder<unknown>,
    top: number,
  ): Promise<Ranked[]> {
    const rows = await sql<{ value: string; n: number }>`
      select ${value} as value, count(*) as n
        from messages m left join message_analysis a on a.mid = m.mid
       where ${where} and ${present}
       group by 1 order by 2 desc, 1 limit ${top}`.execute(this.db)
    return rows.rows.map((r) => ({ value: r.value, count: Number(r.n) }))
  }

  private async rankedRecipients(where: RawBuilder<SqlBool>, top: number): Promise<Ranked[]> {
    const rows = await sql<{ value: string; n: number }>`
      select lower(r.recipient) as value, count(*) as n
        from messages m
        join message_recipients r on r.mid = m.mid
        left join message_analysis a on a.mid = m.mid
       where ${where}
       group by 1 order by 2 desc, 1 limit ${top}`.execute(this.db)
    return rows.rows.map((r) => ({ value: r.value, count: Number(r.n) }))
  }

  private async rankedThreat(
    table: 'message_urls' | 'message_attachments',
    value: RawBuilder<unknown>,
    where: RawBuilder<SqlBool>,
    top: number,
  ): Promise<Ranked[]> {
    const rows = await sql<{ value: string; n: number }>`
      select ${value} as value, count(distinct m.mid) as n
        from messages m
        join ${sql.table(table)} x on x.mid = m.mid
        left join message_analysis a on a.mid = m.mid
       where ${where} and ${THREAT} and ${value} is not null
       group by 1 order by 2 desc, 1 limit ${top}`.execute(this.db)
    return rows.rows.map((r) => ({ value: r.value, count: Number(r.n) }))
  }

  /** The heaviest sender→recipient edges and the nodes they connect. */
  private async relationships(
    where: RawBuilder<SqlBool>,
    limit: number,
  ): Promise<RelationshipGraph> {
    const rows = await sql<{ s: string; t: string; n: number }>`
      select lower(m.envelope_sender) as s, lower(r.recipient) as t, count(*) as n
        from messages m
        join message_recipients r on r.mid = m.mid
        left join message_analysis a on a.mid = m.mid
       where ${where} and m.envelope_sender <> ''
       group by 1, 2 order by 3 desc, 1, 2 limit ${limit}`.execute(this.db)
    const nodes = new Map<string, RelationshipGraph['nodes'][number]>()
    const edges: RelationshipGraph['edges'] = []
    for (const row of rows.rows) {
      const n = Number(row.n)
      const source = `sender:${row.s}`
      const target = `recipient:${row.t}`
      const s = nodes.get(source) ?? {
        id: source,
        kind: 'sender' as const,
        address: row.s,
        messages: 0,
      }
      s.messages += n
      nodes.set(source, s)
      const t = nodes.get(target) ?? {
        id: target,
        kind: 'recipient' as const,
        address: row.t,
        messages: 0,
      }
      t.messages += n
      nodes.set(target, t)
      edges.push({ source, target, messages: n })
    }
    return { nodes: [...nodes.values()], edges }
  }
}

function emptyCounts(): VerdictCounts {
  return {
    total: 0,
    clean: 0,
    spam: 0,
    virus: 0,
    malformed: 0,
    blocked: 0,
    phish: 0,
    authFailed: 0,
    quarantined: 0,
    policy: 0,
  }
}

function addCounts(into: VerdictCounts, from: VerdictCounts): void {
  for (const key of Object.keys(into) as (keyof VerdictCounts)[]) into[key] += from[key]
}
