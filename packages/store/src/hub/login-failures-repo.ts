import { createHash } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { HubSchema } from './schema.js'

function digest(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}

/** Failed console logins per (client address, account), shared by every hub node. */
export class LoginFailuresRepo {
  constructor(private readonly db: Kysely<HubSchema>) {}

  async countSince(key: string, since: number): Promise<number> {
    const row = await this.db
      .selectFrom('login_failures')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('key_digest', '=', digest(key))
      .where('at', '>', since)
      .executeTakeFirst()
    return Number(row?.n ?? 0)
  }

  async record(key: string, at: number): Promise<void> {
    await this.db
      .insertInto('login_failures')
      .values({ key_digest: digest(key), at })
      .execute()
  }

  async clear(key: string): Promise<void> {
    await this.db.deleteFrom('login_failures').where('key_digest', '=', digest(key)).execute()
  }

  /** Forgets failures older than `before` (they no longer count towards any lockout). */
  async prune(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('login_failures')
      .where('at', '<=', before)
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }
}
