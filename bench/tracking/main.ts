/**
 * `npm run bench:tracking`: N tracked messages (default 1 M and 10 M) on SQLite and PostgreSQL,
 * then p50/p99 of the observable lookups, multi-sender/subject searches and the relationship
 * report, each through the same repositories the gateway API uses. Target (issue 4):
 * observable lookup p99 < 20 ms at 10 M. PostgreSQL holds the data in the weekly partitions
 * the gateway creates (migration 1100); the plan of the observables lookup is recorded.
 *
 * Runs of different sizes or engines can run as separate processes (`--save`) and be written
 * to docs/benchmarks.md together (`--merge`).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { sql } from 'kysely'
import { Command, Progress, renderTable } from '@postern/cli-kit'
import {
  Database,
  migrateToLatest,
  TrackingPartitions,
  TrackingReportRepository,
  TrackingSearchRepository,
  TrackingStore,
  type Dialect,
  type GatewaySchema,
  searchFilter,
} from '@postern/store'
import { createTestDatabase } from '@postern/store/testing'
import { writeSection } from '../lib/index.js'
import { expected, generateBatch, RANGE_MS, withIndexesDeferred } from './generate.js'

interface Row {
  database: Dialect
  messages: number
  query: string
  kind: 'lookup' | 'search' | 'report'
  runs: number
  p50: number
  p99: number
  rows: number
}

const program = new Command('bench:tracking')
  .description('Tracking search and reporting latency at 1 M / 10 M messages')
  .option('--messages <list>', 'comma-separated message counts', '1000000,10000000')
  .option('--databases <list>', 'sqlite,postgres', 'sqlite,postgres')
  .option('--runs <n>', 'timed runs per query', (v) => Number(v), 200)
  .option('--json', 'print results as JSON', false)
  .option('--no-write', 'do not update docs/benchmarks.md')
  .option('--note <text>', 'note recorded with the results', '')
  .option('--save <file>', 'also write the results as JSON to this file')
  .option('--merge <files>', 'comma-separated --save files of other runs to report with this one')
program.parse()
const options = program.opts<{
  messages: string
  databases: string
  runs: number
  json: boolean
  write: boolean
  note: string
  save?: string
  merge?: string
}>()

interface Timing {
  database: Dialect
  messages: number
  /** Rows and indexes, from the first insert to the end of ANALYZE. */
  generateSeconds: number
  /** Of which building the secondary indexes after the load. */
  indexSeconds: number
  /** Load averages (1, 5, 15 min) when this size was done. */
  load: number[]
}

interface Plan {
  database: Dialect
  messages: number
  lines: string[]
  /** PostgreSQL: planning + execution time the server reports (EXPLAIN ANALYZE), in ms. */
  server?: { runs: number; p50: number; p99: number }
}

interface Results {
  load: number[]
  versions: Partial<Record<Dialect, string>>
  timings: Timing[]
  plans: Plan[]
  rows: Row[]
}

const results: Results = { load: loadavg(), versions: {}, timings: [], plans: [], rows: [] }
const { rows, timings, plans } = results
const BATCH = 1_000_000
const END = Date.UTC(2026, 0, 31)

for (const dialect of options.databases.split(',').map((d) => d.trim()) as Dialect[]) {
  for (const total of options.messages.split(',').map(Number)) {
    if (!Number.isFinite(total) || total <= 0) continue
    const testDb = await createTestDatabase(dialect)
    const database = await Database.open<GatewaySchema>(testDb.target)
    try {
      await migrateToLatest(database, 'gateway')
      results.versions[dialect] = await engineVersion(database, dialect)
      // The weeks the gateway would have created while the mail arrived.
      await new TrackingPartitions(database.db, dialect).ensure(END - RANGE_MS, END)
      const started = Date.now()
      const progress = new Progress(`${dialect} generate`, total)
      const { indexSeconds } = await withIndexesDeferred(
        database.db as never,
        dialect,
        async () => {
          for (let from = 1; from <= total; from += BATCH) {
            const to = Math.min(total, from + BATCH - 1)
            await database.db
              .transaction()
              .execute((trx) => generateBatch(trx as never, dialect, from, to, END, total))
            progress.tick(to - from + 1)
          }
          progress.finish()
        },
      )
      // Fresh statistics, as autovacuum / `PRAGMA optimize` would have after a day of mail.
      await sql`analyze`.execute(database.db)
      timings.push({
        database: dialect,
        messages: total,
        generateSeconds: (Date.now() - started) / 1000,
        indexSeconds,
        load: loadavg(),
      })
      rows.push(...(await measure(database, dialect, total)))
      plans.push(await lookupPlan(database, dialect, total))
      // After each size, so that a long run stopped at 10 M keeps what it measured before.
      if (options.save) writeFileSync(options.save, `${JSON.stringify(results, null, 2)}\n`)
    } finally {
      await database.close()
      await testDb.drop()
    }
  }
}

/**
 * The plan of the observables lookup and, on PostgreSQL, the time the server itself spends
 * on it (EXPLAIN ANALYZE: planning + execution) over `runs` random senders — the part of the
 * latency that does not depend on how busy the shared machine is.
 */
async function lookupPlan(
  database: Database<GatewaySchema>,
  dialect: Dialect,
  total: number,
  runs = 100,
): Promise<Plan> {
  const tracking = new TrackingStore(database.db, dialect)
  const sender = () => expected(1 + Math.floor(Math.random() * total), dialect, END, total).sender
  const analyze = dialect === 'postgres'
  const lines = await tracking.explainFindByObservable('email', sender(), { analyze })
  if (!analyze) return { database: dialect, messages: total, lines }
  const samples: number[] = []
  for (let i = 0; i < runs; i++) {
    const plan = await tracking.explainFindByObservable('email', sender(), { analyze })
    const ms = (label: string) =>
      Number(/: ([\d.]+) ms/.exec(plan.find((l) => l.startsWith(label)) ?? '')?.[1] ?? NaN)
    samples.push(ms('Planning Time') + ms('Execution Time'))
  }
  samples.sort((a, b) => a - b)
  const q = (p: number) => samples[Math.min(runs - 1, Math.ceil((p / 100) * runs) - 1)] ?? 0
  return { database: dialect, messages: total, lines, server: { runs, p50: q(50), p99: q(99) } }
}

async function engineVersion(database: Database<GatewaySchema>, dialect: Dialect): Promise<string> {
  const r = await sql<{
    v: string
  }>`select ${sql.raw(dialect === 'postgres' ? "current_setting('server_version')" : 'sqlite_version()')} as v`.execute(
    database.db,
  )
  return `${dialect === 'postgres' ? 'PostgreSQL' : 'SQLite'} ${r.rows[0]?.v ?? '?'}`
}

async function measure(
  database: Database<GatewaySchema>,
  dialect: Dialect,
  total: number,
): Promise<Row[]> {
  const search = new TrackingSearchRepository(database.db, dialect)
  const tracking = new TrackingStore(database.db, dialect)
  const reports = new TrackingReportRepository(database.db, dialect)
  const pick = (multiple = 1) =>
    Math.max(multiple, Math.floor((Math.random() * total) / multiple) * multiple)
  const page = {
    sort: { field: 'received_at' as const, order: 'desc' as const },
    limit: 50,
    offset: 0,
  }
  const filter = searchFilter
  const e = (n: number) => expected(n, dialect, END, total)
  const cases: { name: string; kind: Row['kind']; run: () => Promise<number> }[] = [
    {
      name: 'observable (sender email, observables index)',
      kind: 'lookup',
      run: async () => (await tracking.findByObservable('email', e(pick()).sender)).length,
    },
    {
      name: 'Message-ID',
      kind: 'lookup',
      run: async () =>
        (await search.search(filter({ messageId: e(pick()).messageId }), page)).rows.length,
    },
    {
      name: 'URL',
      kind: 'lookup',
      run: async () => (await search.search(filter({ urls: [e(pick(3)).url] }), page)).rows.length,
    },
    {
      name: 'URL domain',
      kind: 'lookup',
      run: async () =>
        (await search.search(filter({ urlDomains: [e(pick(3)).urlDomain] }), page)).rows.length,
    },
    {
      name: 'attachment SHA-256',
      kind: 'lookup',
      run: async () =>
        (await search.search(filter({ attachmentHashes: [e(pick(10)).sha256] }), page)).rows.length,
    },
    {
      name: 'sender IP',
      kind: 'lookup',
      run: async () =>
        (await search.search(filter({ senderIp: e(pick()).senderIp }), page)).rows.length,
    },
    {
      name: 'sender (is)',
      kind: 'lookup',
      run: async () =>
        (
          await search.search(
            filter({ envelopeSenders: [{ operator: 'is', value: e(pick()).sender }] }),
            page,
          )
        ).rows.length,
    },
    {
      name: 'MID',
      kind: 'lookup',
      run: async () => (await search.search(filter({ mids: [pick()] }), page)).rows.length,
    },
    {
      name: '3 senders (is, begins_with, contains) + 2 subjects, 7 days',
      kind: 'search',
      run: async () => {
        const n = pick()
        const f = filter({
          since: END - 7 * 86_400_000,
          envelopeSenders: [
            { operator: 'is', value: e(n).sender },
            { operator: 'begins_with', value: `user${n % 997}@` },
            { operator: 'contains', value: `@${e(n + 1).senderDomain}` },
          ],
          subjects: [
            { operator: 'contains', value: `invoice ${(n * 48_271) % 100_000}` },
            { operator: 'begins_with', value: 'password expires 4' },
          ],
        })
        return (await search.search(f, page)).rows.length
      },
    },
    {
      name: 'subject contains, 30 days',
      kind: 'search',
      run: async () =>
        (
          await search.search(
            filter({
              subjects: [{ operator: 'contains', value: `report ${(pick() * 48_271) % 100_000}` }],
            }),
            page,
          )
        ).rows.length,
    },
    {
      name: 'relationship report, 1 day',
      kind: 'report',
      run: async () => {
        const until = END - Math.floor(Math.random() * 20) * 86_400_000
        const r = await reports.report(filter({}), {
          since: until - 86_400_000,
          until,
          bucketMs: 3_600_000,
          top: 10,
          graphLimit: 200,
        })
        return r.relationships.edges.length
      },
    },
    {
      name: 'relationship report, 1 sender domain, 30 days',
      kind: 'report',
      run: async () => {
        const r = await reports.report(filter({ senderDomains: [e(pick()).senderDomain] }), {
          since: END - RANGE_MS,
          until: END,
          bucketMs: 86_400_000,
          top: 10,
          graphLimit: 200,
        })
        return r.relationships.edges.length
      },
    },
  ]
  const out: Row[] = []
  for (const c of cases) {
    const runs = c.kind === 'report' ? Math.max(5, Math.floor(options.runs / 10)) : options.runs
    for (let i = 0; i < Math.min(5, runs); i++) await c.run()
    const samples: number[] = []
    let found = 0
    for (let i = 0; i < runs; i++) {
      const t = process.hrtime.bigint()
      found += await c.run()
      samples.push(Number(process.hrtime.bigint() - t) / 1e6)
    }
    samples.sort((a, b) => a - b)
    const q = (p: number) =>
      samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)] ?? 0
    out.push({
      database: dialect,
      messages: total,
      query: c.name,
      kind: c.kind,
      runs,
      p50: q(50),
      p99: q(99),
      rows: Math.round(found / runs),
    })
    process.stderr.write(
      `${dialect} ${total} ${c.name}: p50 ${q(50).toFixed(2)} ms, p99 ${q(99).toFixed(2)} ms\n`,
    )
  }
  return out
}

results.load.push(...loadavg())
/** Load averages of this run and of every merged one, at start and at end. */
const loads: { databases: string; load: number[] }[] = []
if (rows.length > 0) loads.push({ databases: options.databases, load: results.load })
if (options.save) writeFileSync(options.save, `${JSON.stringify(results, null, 2)}\n`)
for (const file of options.merge?.split(',').filter(Boolean) ?? []) {
  const other = JSON.parse(readFileSync(file, 'utf8')) as Results
  rows.push(...other.rows)
  timings.push(...other.timings)
  plans.push(...other.plans)
  results.versions = { ...other.versions, ...results.versions }
  loads.push({
    databases: [...new Set(other.timings.map((t) => t.database))].join(','),
    load: other.load,
  })
}
const order = (a: { database: string; messages: number }, b: typeof a) =>
  a.database.localeCompare(b.database) || a.messages - b.messages
rows.sort(order)
timings.sort(order)
plans.sort(order)

const verdict = (r: Row) =>
  r.kind !== 'lookup'
    ? ''
    : r.messages < 10_000_000
      ? 'n/a (< 10 M)'
      : r.p99 < 20
        ? 'met (< 20 ms)'
        : 'missed (≥ 20 ms)'
if (options.json) {
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`)
} else {
  process.stdout.write(
    `${renderTable(
      ['database', 'messages', 'query', 'p50 ms', 'p99 ms', 'rows', 'target'],
      rows.map((r) => [
        r.database,
        r.messages,
        r.query,
        r.p50.toFixed(2),
        r.p99.toFixed(2),
        r.rows,
        verdict(r),
      ]),
    )}\n`,
  )
  for (const plan of plans)
    process.stdout.write(`\n${plan.database} ${plan.messages}:\n${plan.lines.join('\n')}\n`)
}

/**
 * Lookup latency against size, per engine: p50/p99 at each size and the ratio between the
 * largest and the smallest, measured in the same conditions.
 */
function scalingTable(): string[] {
  const sizes = [...new Set(rows.map((r) => r.messages))].sort((a, b) => a - b)
  const out = [
    `| Database | Lookup | ${sizes.map((n) => `${millions(n)} p50 / p99 ms`).join(' | ')} | p99 ratio ${millions(sizes.at(-1) ?? 0)} / ${millions(sizes[0] ?? 0)} |`,
    `|---|---|${sizes.map(() => '---:').join('|')}|---:|`,
  ]
  const lookups = rows.filter((r) => r.kind === 'lookup')
  for (const key of [...new Set(lookups.map((r) => `${r.database}\u0000${r.query}`))]) {
    const [database, query] = key.split('\u0000') as [string, string]
    const at = (n: number) =>
      lookups.find((r) => r.database === database && r.query === query && r.messages === n)
    const first = at(sizes[0] ?? 0)
    const last = at(sizes.at(-1) ?? 0)
    const ratio = first && last && sizes.length > 1 ? (last.p99 / first.p99).toFixed(1) : '–'
    out.push(
      `| ${database} | ${query} | ${sizes
        .map((n) => {
          const r = at(n)
          return r ? `${r.p50.toFixed(2)} / ${r.p99.toFixed(2)}` : 'not run'
        })
        .join(' | ')} | ${ratio} |`,
    )
  }
  return out
}

function serverTable(): string[] {
  const measured = plans.filter((p) => p.server)
  if (measured.length === 0) return []
  return [
    'PostgreSQL server time of the observables lookup (EXPLAIN ANALYZE, planning + execution, 100 random senders measured after the other queries): it leaves out the round trips to the client, not the waits for a CPU or the disk on a busy machine.',
    '',
    '| Messages | Runs | p50 ms | p99 ms |',
    '|---:|---:|---:|---:|',
    ...measured.map(
      (p) =>
        `| ${millions(p.messages)} | ${p.server?.runs} | ${p.server?.p50.toFixed(2)} | ${p.server?.p99.toFixed(2)} |`,
    ),
    '',
  ]
}

/** Partitions the PostgreSQL lookup went through, from its plan. */
function partitionCount(): string {
  const plan = plans.find((p) => p.database === 'postgres')
  if (!plan) return 'not run here'
  const scanned = plan.lines.filter((l) => / on observables_\w+/.test(l)).length
  return `${scanned} partitions per table in this run, the default one included: the 30 days, the weeks around the day of the run that the migration created, and two ahead`
}

function millions(n: number): string {
  return n >= 1_000_000 ? `${n / 1_000_000} M` : `${n / 1000} k`
}

const fixed = (values: readonly number[]) => values.map((v) => v.toFixed(2)).join(' / ')

if (options.write) {
  writeSection(
    new URL('../../docs/benchmarks.md', import.meta.url).pathname,
    'tracking',
    [
      '## Tracking search and reporting (`npm run bench:tracking`)',
      '',
      `Synthetic tracked mail over 30 days (1–2 recipients, the sender in the observables index, 10 % spam, a URL in every third message, an attachment in every tenth), searched through the repositories the API uses (page of 50 plus the capped total). PostgreSQL holds it in the weekly partitions of migration 1100 as the gateway creates them (${partitionCount()}). Target: observable lookup p99 < 20 ms at 10 M messages.`,
      '',
      `- Date: ${new Date().toISOString()}; ${options.note || 'machine shared with other engineers working at the same time: figures are noisy'}`,
      `- Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; load average (1 / 5 / 15 min) ${loads.map((l) => `${l.databases} run: ${fixed(l.load.slice(0, 3))} at start, ${l.load.length > 3 ? fixed(l.load.slice(3)) : 'not recorded'} at end`).join('; ')}`,
      `- Versions: Node.js ${process.version}, ${Object.values(results.versions).join(', ')} (better-sqlite3, WAL; PostgreSQL server on 127.0.0.1:5432); ${options.runs} runs per lookup`,
      `- Generation (rows generated inside the database, secondary indexes and SQLite's FTS5 trigram tables built once after the load): ${timings.map((t) => `${t.database} ${millions(t.messages)}: ${t.generateSeconds.toFixed(0)} s, of which indexes ${t.indexSeconds.toFixed(0)} s (load average then ${fixed(t.load)})`).join('; ')}`,
      '',
      '### Lookup latency against size',
      '',
      ...scalingTable(),
      '',
      ...serverTable(),
      '### All queries',
      '',
      '| Database | Messages | Query | p50 ms | p99 ms | Rows | Target |',
      '|---|---:|---|---:|---:|---:|---|',
      ...rows.map(
        (r) =>
          `| ${r.database} | ${r.messages} | ${r.query} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.rows} | ${verdict(r)} |`,
      ),
      '',
      '### Plan of the observables lookup (`TrackingStore.findByObservable`)',
      '',
      ...plans.flatMap((p) => [
        `${p.database}, ${millions(p.messages)} messages:`,
        '',
        '```',
        ...p.lines,
        '```',
        '',
      ]),
    ].join('\n'),
  )
}
