import { defineErrors } from '@postern/core'

/** Errors raised by the data layer. */
export const storeErrors = defineErrors('STORE', {
  DATABASE_URL_INVALID: {
    message: 'Unsupported database setting "{value}"',
    hint: 'Use "sqlite" (file in the data directory), "sqlite:/path/to/file.db", or a postgres://user@host:port/db URL.',
  },
  DATABASE_UNREACHABLE: {
    message: 'Cannot open the database {target}: {reason}',
    hint: 'Check that the server is running and reachable, and that the user may connect; for SQLite, that the directory is writable.',
  },
  MIGRATION_FAILED: {
    message: 'Database migration {migration} failed: {reason}',
    hint: 'The database was left at the last successful migration. Fix the cause above (often permissions or disk space) and start again.',
  },
  SCHEMA_TOO_NEW: {
    message: 'The database has migration {migration} that this version of Postern does not know',
    hint: 'The database was upgraded by a newer Postern. Run that version, or restore a backup taken before the upgrade.',
  },
})
