import { Migrator, sql, type Kysely, type Migration, type CreateTableBuilder } from 'kysely'
import { describeError, silentLogger, type Logger } from '@postern/core'
import type { Database, Dialect } from './database.js'
import { storeErrors } from './store-errors.js'
import { gatewayMigrations } from './migrations/gateway/index.js'
import { hubMigrations } from './migrations/hub/index.js'

/**
 * Each deployable owns one area of the schema. The migrations are written once with Kysely's
 * schema builder and run unchanged on SQLite and PostgreSQL; where the engines differ
 * (auto-increment ids, full-text search) a migration asks `dialectOf(db)`.
 */
export type SchemaArea = 'gateway' | 'hub'

/** A migration that also receives the dialect, for the few statements that differ. */
export interface DialectMigration {
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>
}

const AREAS: Record<SchemaArea, Record<string, DialectMigration>> = {
  gateway: gatewayMigrations,
  hub: hubMigrations,
}

export async function migrateToLatest<S>(
  database: Database<S>,
  area: SchemaArea,
  logger: Logger = silentLogger(),
): Promise<string[]> {
  const source = AREAS[area]
  const migrations: Record<string, Migration> = {}
  for (const [name, migration] of Object.entries(source)) {
    migrations[name] = { up: (db) => migration.up(db, database.dialect) }
  }
  const migrator = new Migrator({
    db: database.db as Kysely<unknown>,
    provider: { getMigrations: async () => migrations },
    migrationTableName: `postern_migrations_${area}`,
    migrationLockTableName: `postern_migrations_${area}_lock`,
  })
  const known = new Set(Object.keys(migrations))
  for (const name of await appliedMigrationNames(
    database.db as Kysely<unknown>,
    `postern_migrations_${area}`,
  )) {
    if (!known.has(name)) throw storeErrors.SCHEMA_TOO_NEW({ migration: name })
  }
  const { error, results } = await migrator.migrateToLatest()
  const done = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName)
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? '(unknown)'
    throw storeErrors.MIGRATION_FAILED(
      { migration: failed, reason: describeError(error) },
      { cause: error },
    )
  }
  for (const name of done)
    logger.info({ event: 'MIGRATION_APPLIED', area, migration: name }, 'migration applied')
  return done
}

async function appliedMigrationNames(db: Kysely<unknown>, table: string): Promise<string[]> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true })
  if (!tables.some((t) => t.name === table)) return []
  const rows = await sql<{ name: string }>`select name from ${sql.table(table)}`.execute(db)
  return rows.rows.map((r) => r.name)
}

/** Adds an auto-increment integer primary key named `column` (default `id`). */
export function withAutoId<T extends string>(
  table: CreateTableBuilder<T, never>,
  dialect: Dialect,
  column = 'id',
): CreateTableBuilder<T, never> {
  return dialect === 'sqlite'
    ? table.addColumn(column, 'integer', (c) => c.primaryKey().autoIncrement())
    : table.addColumn(column, 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
}

/** Raw SQL helper re-exported so migrations import everything from one place. */
export { sql }
