import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import SQLite from 'better-sqlite3'
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type KyselyPlugin,
  type LogEvent,
  type SqliteDatabase,
  type SqliteDialectConfig,
} from 'kysely'
import pg from 'pg'
import { describeError, silentLogger, type Logger } from '@postern/core'
import { storeErrors } from './store-errors.js'

export type Dialect = 'sqlite' | 'postgres'

export interface DatabaseTarget {
  dialect: Dialect
  /** File path (or `:memory:`) for SQLite, connection URL for PostgreSQL. */
  location: string
}

/**
 * Resolves the `database` configuration value: `sqlite` (the embedded default, a file named
 * `defaultFile` in the data directory), `sqlite:/path/file.db`, `sqlite::memory:`, or a
 * `postgres://` / `postgresql://` URL.
 */
export function resolveDatabaseTarget(
  value: string,
  dataDir: string,
  defaultFile: string,
): DatabaseTarget {
  if (value === 'sqlite') return { dialect: 'sqlite', location: join(dataDir, defaultFile) }
  if (value.startsWith('sqlite:')) {
    const location = value.slice('sqlite:'.length)
    if (location.length === 0) throw storeErrors.DATABASE_URL_INVALID({ value })
    return { dialect: 'sqlite', location }
  }
  if (/^postgres(ql)?:\/\//.test(value)) return { dialect: 'postgres', location: value }
  throw storeErrors.DATABASE_URL_INVALID({ value })
}

/** A connection pool (PostgreSQL) or connection (SQLite) with its typed query builder. */
export class Database<Schema> {
  private constructor(
    readonly db: Kysely<Schema>,
    readonly dialect: Dialect,
    readonly target: DatabaseTarget,
  ) {}

  static async open<Schema>(
    target: DatabaseTarget,
    options: {
      logger?: Logger
      poolSize?: number
      plugins?: KyselyPlugin[]
      /** Called with every statement run, after it ran (tests look at the plans of a repository's statements). */
      onQuery?: (query: CompiledQuery) => void
    } = {},
  ): Promise<Database<Schema>> {
    const logger = options.logger ?? silentLogger()
    const where = target.dialect === 'sqlite' ? target.location : redactUrl(target.location)
    try {
      const dialect =
        target.dialect === 'sqlite'
          ? new ImmediateSqliteDialect({
              database: withStatementCache(openSqlite(target.location)),
            })
          : new PostgresDialect({
              pool: openPgPool(target.location, options.poolSize ?? 10, logger),
            })
      const onQuery = options.onQuery
      const db = new Kysely<Schema>({
        dialect,
        plugins: options.plugins ?? [],
        ...(onQuery && {
          log: (event: LogEvent) => {
            if (event.level === 'query') onQuery(event.query)
          },
        }),
      })
      const database = new Database(db, target.dialect, target)
      await database.ping()
      logger.debug({ event: 'DATABASE_OPENED', dialect: target.dialect, where }, 'database opened')
      return database
    } catch (err) {
      throw storeErrors.DATABASE_UNREACHABLE(
        { target: where, reason: describeError(err) },
        { cause: err },
      )
    }
  }

  async ping(): Promise<void> {
    await this.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute()
  }

  async close(): Promise<void> {
    await this.db.destroy()
  }
}

/**
 * SQLite write transactions take the write lock when they begin (`BEGIN IMMEDIATE`). A deferred
 * transaction that reads and then writes, while another connection (the tracking worker
 * thread) commits in between, gets SQLITE_BUSY at once — the busy timeout cannot help, as its
 * snapshot is stale (https://www.sqlite.org/lang_transaction.html, "read transaction upgrade").
 * Taking the lock first makes it wait its turn instead.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'))
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly sqliteConfig: SqliteDialectConfig) {
    super(sqliteConfig)
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.sqliteConfig)
  }
}

function openSqlite(location: string): SQLite.Database {
  if (location !== ':memory:') mkdirSync(dirname(location), { recursive: true })
  const sqlite = new SQLite(location)
  // WAL lets readers (API, reports) run while the tracking writer commits; NORMAL sync in WAL
  // mode keeps the database consistent across a process crash. Durability of accepted mail
  // is the spool's job, not the tracking database's.
  sqlite.pragma('journal_mode = WAL')
  sqlite.pragma('synchronous = NORMAL')
  sqlite.pragma('foreign_keys = ON')
  sqlite.pragma('busy_timeout = 5000')
  return sqlite
}

/** Compiled statements kept per connection (the distinct queries of a process are a few hundred). */
const STATEMENT_CACHE_SIZE = 1_000

/**
 * Kysely prepares every query anew, and better-sqlite3 compiles the SQL on each `prepare`: with
 * the same few hundred query texts run over and over, compiling was a good part of a small
 * query's time (the hub reads its org change counter on every request). A statement still
 * iterating (a streamed query) is busy and cannot run a second time: that query gets a fresh one.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>()
  return {
    close: () => sqlite.close(),
    prepare(sql) {
      const known = statements.get(sql)
      if (known && !known.busy) return known
      const statement = sqlite.prepare(sql)
      if (known) return statement
      statements.set(sql, statement)
      if (statements.size > STATEMENT_CACHE_SIZE) {
        statements.delete(statements.keys().next().value!)
      }
      return statement
    },
  }
}

// OID 20 is int8/bigint. Times are epoch milliseconds and ids stay far below 2^53, so they are
// returned as numbers rather than pg's default strings.
const INT8_OID = 20

function openPgPool(url: string, max: number, logger: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  })
  // A client losing its connection (server restart) must not crash the process. The pool
  // reports idle clients itself; a checked-out client between two queries (inside a
  // transaction) emits 'error' on itself, which unhandled would kill the process — its next
  // query fails instead, and the pool discards it when it is released.
  const clientFailed = (err: Error) =>
    logger.warn(
      { event: 'DATABASE_CLIENT_ERROR', err: describeError(err) },
      'database client lost its connection',
    )
  pool.on('error', clientFailed)
  pool.on('connect', (client) => client.on('error', clientFailed))
  return pool
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparseable url)'
  }
}
