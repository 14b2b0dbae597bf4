import type { Kysely } from 'kysely'
import type { GatewaySchema } from './schema.js'

export interface MailPoliciesTable {
  id: string
  document: string
  updated_at: number
  updated_by: string
}

export interface StoredMailPolicies {
  /** The edited `policies` document as JSON text (validated by the gateway before it is stored). */
  document: string
  updatedAt: number
  updatedBy: string
}

/** The one row that always holds the current document. */
const CURRENT = 'current'

/** Mail policies edited in the console (migration 1010): one document, replaced as a whole. */
export class MailPoliciesRepo {
  constructor(private readonly db: Kysely<GatewaySchema>) {}

  async get(): Promise<StoredMailPolicies | undefined> {
    const row = await this.db
      .selectFrom('mail_policies')
      .selectAll()
      .where('id', '=', CURRENT)
      .executeTakeFirst()
    return row
      ? { document: row.document, updatedAt: Number(row.updated_at), updatedBy: row.updated_by }
      : undefined
  }

  async put(stored: StoredMailPolicies): Promise<void> {
    const values = {
      document: stored.document,
      updated_at: stored.updatedAt,
      updated_by: stored.updatedBy,
    }
    await this.db
      .insertInto('mail_policies')
      .values({ id: CURRENT, ...values })
      .onConflict((oc) => oc.column('id').doUpdateSet(values))
      .execute()
  }

  /** Back to the configuration's policies. */
  async remove(): Promise<void> {
    await this.db.deleteFrom('mail_policies').where('id', '=', CURRENT).execute()
  }
}
