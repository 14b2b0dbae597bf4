import { CompiledQuery, type Kysely } from 'kysely'
import type { Dialect } from '../database.js'

/**
 * Multi-row statements of the tracking writer, written as SQL text instead of through Kysely's
 * builder: the builder parses and compiles every row of every batch anew, which cost the
 * tracking worker thread about a third of its time under load. Values are always bound
 * parameters, never part of the text.
 *
 * On SQLite a statement covers a row count from a short ladder (256, 64, 16, 4, 1 rows): the
 * few texts are compiled once and kept by the connection's statement cache (`database.ts`),
 * where every batch size would otherwise compile — and evict — a statement of its own. On
 * PostgreSQL a table whose column types are given takes its whole batch in one `unnest` of
 * column arrays (one text whatever the row count); another table gets one statement per chunk
 * of rows, PostgreSQL compiling every statement it receives anyway.
 */
export interface RowsStatement {
  /** Text before the rows, e.g. `insert into "t" ("a", "b") values `. */
  readonly head: string
  /** Text after the rows, e.g. ` on conflict do nothing`. */
  readonly tail: string
  /** One row's expressions, `?` standing for its parameter: `?` or `cast(? as bigint)`. */
  readonly row: readonly string[]
  /**
   * PostgreSQL: the columns' types, when known. The rows then go as one array per column into
   * `unnest(…)` in place of the row list: the text is the same for every batch, and the server
   * reads a few arrays rather than parsing and binding thousands of parameters.
   */
  readonly unnest?: { readonly types: readonly string[]; readonly head: string }
}

// SQLite accepts 32 766 bound parameters per statement, PostgreSQL 65 535.
export const MAX_PARAMS = 30_000

const SQLITE_LADDER = [256, 64, 16, 4, 1] as const

/** Texts by statement, dialect and row count (SQLite's ladder only: a handful per statement). */
const texts = new WeakMap<RowsStatement, Map<string, string>>()

/** Quotes an identifier the way both engines read it (SQL standard double quotes). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** `insert into "table" (columns…) values …`, optionally ignoring rows already present. */
export function insertStatement(
  table: string,
  columns: readonly string[],
  options: { onConflictDoNothing: boolean; types?: readonly string[] },
): RowsStatement {
  const into = `insert into ${quoteIdentifier(table)} (${columns.map(quoteIdentifier).join(', ')}) `
  return {
    head: `${into}values `,
    // Without a conflict target: the key differs between the engines for partitioned tables.
    tail: options.onConflictDoNothing ? ' on conflict do nothing' : '',
    row: columns.map(() => '?'),
    ...(options.types && { unnest: { types: options.types, head: `${into}select * from ` } }),
  }
}

function statementText(statement: RowsStatement, dialect: Dialect, rows: number): string {
  if (dialect === 'sqlite') {
    const row = `(${statement.row.join(', ')})`
    return statement.head + Array.from({ length: rows }, () => row).join(', ') + statement.tail
  }
  // PostgreSQL numbers its parameters: each row's expressions around $n, $n+1, …
  const around = statement.row.map((expression) => expression.split('?') as [string, string])
  let text = statement.head
  let n = 1
  for (let r = 0; r < rows; r++) {
    text += r === 0 ? '(' : ', ('
    for (let c = 0; c < around.length; c++) {
      const [before, after] = around[c] as [string, string]
      text += `${c === 0 ? '' : ', '}${before}$${n++}${after}`
    }
    text += ')'
  }
  return text + statement.tail
}

function cachedText(statement: RowsStatement, dialect: Dialect, rows: number): string {
  let byShape = texts.get(statement)
  if (!byShape) {
    byShape = new Map()
    texts.set(statement, byShape)
  }
  const key = `${dialect}:${rows}`
  let text = byShape.get(key)
  if (text === undefined) {
    text = statementText(statement, dialect, rows)
    byShape.set(key, text)
  }
  return text
}

/**
 * Runs `statement` over `values`, the rows' parameters one row after the other
 * (`statement.row.length` per row), in as few statements as the engine's limits allow.
 */
export async function runRows(
  db: Kysely<unknown>,
  dialect: Dialect,
  statement: RowsStatement,
  values: readonly unknown[],
): Promise<void> {
  const width = statement.row.length
  const rows = values.length / width
  if (dialect === 'postgres' && statement.unnest) {
    const { types, head } = statement.unnest
    const columns = types.map(() => new Array<unknown>(rows))
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < width; c++) (columns[c] as unknown[])[r] = values[r * width + c]
    }
    const arrays = types.map((type, c) => `$${c + 1}::${type}[]`).join(', ')
    await db.executeQuery(CompiledQuery.raw(`${head}unnest(${arrays})${statement.tail}`, columns))
    return
  }
  const maxRows = Math.max(1, Math.floor(MAX_PARAMS / width))
  let done = 0
  while (done < rows) {
    const left = rows - done
    const count =
      dialect === 'postgres'
        ? Math.min(left, maxRows)
        : (SQLITE_LADDER.find((size) => size <= left && size <= maxRows) ?? 1)
    const text =
      dialect === 'postgres'
        ? statementText(statement, dialect, count)
        : cachedText(statement, dialect, count)
    await db.executeQuery(
      CompiledQuery.raw(text, values.slice(done * width, (done + count) * width)),
    )
    done += count
  }
}
