import type { Kysely } from 'kysely'

export interface BlockPushPoliciesTable {
  org_id: string
  /** 1 when a push of a judgement's or casebook's blocks waits for a second user's approval. */
  approval_required: number
  updated_at: number
  updated_by: string
}

export interface BlockPushPoliciesSchema {
  block_push_policies: BlockPushPoliciesTable
}

export interface BlockPushPolicy {
  approvalRequired: boolean
  updatedAt: number
  updatedBy: string
}

/** Per organisation: whether pushing blocks to its gateways needs another user's approval. */
export class BlockPushPoliciesRepo {
  private readonly db: Kysely<BlockPushPoliciesSchema>

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any schema that has the table
  constructor(db: Kysely<any>) {
    this.db = db as Kysely<BlockPushPoliciesSchema>
  }

  async get(orgId: string): Promise<BlockPushPolicy | undefined> {
    const row = await this.db
      .selectFrom('block_push_policies')
      .selectAll()
      .where('org_id', '=', orgId)
      .executeTakeFirst()
    return row
      ? {
          approvalRequired: Number(row.approval_required) === 1,
          updatedAt: Number(row.updated_at),
          updatedBy: row.updated_by,
        }
      : undefined
  }

  async set(orgId: string, policy: BlockPushPolicy): Promise<void> {
    const values = {
      approval_required: policy.approvalRequired ? 1 : 0,
      updated_at: policy.updatedAt,
      updated_by: policy.updatedBy,
    }
    await this.db
      .insertInto('block_push_policies')
      .values({ org_id: orgId, ...values })
      .onConflict((oc) => oc.column('org_id').doUpdateSet(values))
      .execute()
  }
}
