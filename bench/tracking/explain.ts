import SQLite from 'better-sqlite3'
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  type DatabaseConnection,
  type Dialect as KyselyDialect,
  type Driver,
  type QueryResult,
} from 'kysely'
import pg from 'pg'
import type { DatabaseTarget, Dialect, GatewaySchema } from '@postern/store'

/**
 * What one read statement cost the database, from its plan. PostgreSQL: the shared buffers
 * the execution touched (`hit` found in shared_buffers, `read` asked of the kernel: the page
 * cache or the disk) and the server's own planning and execution time — figures that do not
 * depend on how busy the machine is, unlike the wall-clock latency. SQLite: the query plan only.
 */
export interface StatementCost {
  hit: number
  read: number
  planningMs: number
  executionMs: number
  plan: string[]
}

/** The statements one run of a lookup issued, in order. */
export type LookupCost = StatementCost[]

/**
 * A Kysely over `target` whose every read statement is first run under EXPLAIN (PostgreSQL:
 * `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`, SQLite: `EXPLAIN QUERY PLAN`) and then for real,
 * so that the repositories the API uses can be measured unchanged: the plan is taken on the
 * first execution, with the pages as cold as the lookup found them. `take()` returns the costs
 * recorded since the last call.
 */
export function explainingDatabase(target: DatabaseTarget): {
  db: Kysely<GatewaySchema>
  take(): LookupCost
} {
  let recorded: StatementCost[] = []
  const inner: KyselyDialect =
    target.dialect === 'postgres'
      ? new PostgresDialect({ pool: new pg.Pool({ connectionString: target.location, max: 1 }) })
      : new SqliteDialect({ database: new SQLite(target.location, { readonly: true }) })
  const explain = async (connection: DatabaseConnection, query: CompiledQuery) => {
    if (!/^\s*(select|with)\b/i.test(query.sql)) return
    recorded.push(await explainStatement(connection, target.dialect, query))
  }
  const db = new Kysely<GatewaySchema>({ dialect: withExplain(inner, explain) })
  return {
    db,
    take() {
      const out = recorded
      recorded = []
      return out
    },
  }
}

async function explainStatement(
  connection: DatabaseConnection,
  dialect: Dialect,
  query: CompiledQuery,
): Promise<StatementCost> {
  if (dialect === 'sqlite') {
    const result = await connection.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]),
    )
    return {
      hit: 0,
      read: 0,
      planningMs: 0,
      executionMs: 0,
      plan: result.rows.map((r) => r.detail),
    }
  }
  const result = await connection.executeQuery<{ 'QUERY PLAN': PgExplain[] }>(
    CompiledQuery.raw(`explain (analyze, buffers, format json) ${query.sql}`, [
      ...query.parameters,
    ]),
  )
  const top = result.rows[0]?.['QUERY PLAN'][0]
  if (!top) throw new Error(`no plan for ${query.sql}`)
  return {
    hit: top.Plan['Shared Hit Blocks'] ?? 0,
    read: top.Plan['Shared Read Blocks'] ?? 0,
    planningMs: top['Planning Time'] ?? 0,
    executionMs: top['Execution Time'] ?? 0,
    plan: describePlan(top.Plan),
  }
}

interface PgPlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  'Actual Rows'?: number
  'Actual Loops'?: number
  'Heap Fetches'?: number
  'Shared Hit Blocks'?: number
  'Shared Read Blocks'?: number
  Plans?: PgPlanNode[]
}

interface PgExplain {
  Plan: PgPlanNode
  'Planning Time'?: number
  'Execution Time'?: number
}

/** One line per plan node: type, relation and index, rows, heap fetches, buffers. */
function describePlan(node: PgPlanNode, depth = 0): string[] {
  const on = node['Relation Name'] ? ` on ${node['Relation Name']}` : ''
  const using = node['Index Name'] ? ` using ${node['Index Name']}` : ''
  const heap = node['Heap Fetches'] === undefined ? '' : ` heap fetches ${node['Heap Fetches']}`
  const line = `${'  '.repeat(depth)}${node['Node Type']}${using}${on} rows ${node['Actual Rows'] ?? 0}×${node['Actual Loops'] ?? 0}${heap} buffers ${node['Shared Hit Blocks'] ?? 0} hit / ${node['Shared Read Blocks'] ?? 0} read`
  return [line, ...(node.Plans ?? []).flatMap((child) => describePlan(child, depth + 1))]
}

/** `inner` with `explain` run on the same connection before every statement. */
function withExplain(
  inner: KyselyDialect,
  explain: (connection: DatabaseConnection, query: CompiledQuery) => Promise<void>,
): KyselyDialect {
  const innerOf = new WeakMap<DatabaseConnection, DatabaseConnection>()
  const unwrap = (connection: DatabaseConnection) => innerOf.get(connection) ?? connection
  return {
    createAdapter: () => inner.createAdapter(),
    createIntrospector: (db) => inner.createIntrospector(db),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createDriver(): Driver {
      const driver = inner.createDriver()
      return {
        init: () => driver.init(),
        async acquireConnection() {
          const connection = await driver.acquireConnection()
          const wrapped: DatabaseConnection = {
            async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
              await explain(connection, query)
              return connection.executeQuery<R>(query)
            },
            streamQuery<R>(query: CompiledQuery, chunkSize?: number) {
              return connection.streamQuery<R>(query, chunkSize)
            },
          }
          innerOf.set(wrapped, connection)
          return wrapped
        },
        beginTransaction: (c, settings) => driver.beginTransaction(unwrap(c), settings),
        commitTransaction: (c) => driver.commitTransaction(unwrap(c)),
        rollbackTransaction: (c) => driver.rollbackTransaction(unwrap(c)),
        releaseConnection: (c) => driver.releaseConnection(unwrap(c)),
        destroy: () => driver.destroy(),
      }
    },
  }
}
