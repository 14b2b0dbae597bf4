import { randomBytes } from 'node:crypto'
import { SecretBox, silentLogger, type Logger } from '@postern/core'
import { Database, migrateToLatest, type GatewaySchema } from '@postern/store'
import { createTestDatabase, type TestDatabase } from '@postern/store/testing'
import type { Dialect } from '@postern/store'
import {
  createRemediationModule,
  remediationConfigSchema,
  type RemediationModule,
  type RemediationTrackingEvent,
} from '../../apps/gateway/src/remediation/index.js'

/** A phishing-looking message with a given Message-ID. */
export function phishMessage(messageId: string, to = 'undisclosed-recipients:;'): string {
  return [
    'From: "IT Helpdesk" <helpdesk@evil.test>',
    `To: ${to}`,
    'Subject: Password expires today',
    `Message-ID: <${messageId}>`,
    'Date: Thu, 01 Jan 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Reset it at https://evil.test/reset now.',
    '',
  ].join('\r\n')
}

export function uniqueId(label: string): string {
  return `${label}.${randomBytes(6).toString('hex')}@evil.test`
}

export interface RemediationHarness {
  database: Database<GatewaySchema>
  module: RemediationModule
  events: RemediationTrackingEvent[]
  close(): Promise<void>
}

/** A migrated gateway database with the remediation module on top. */
export async function startRemediation(
  dialect: Dialect,
  config: Record<string, unknown>,
  logger: Logger = silentLogger(),
): Promise<RemediationHarness> {
  const testDb: TestDatabase = await createTestDatabase(dialect)
  const database = await Database.open<GatewaySchema>(testDb.target)
  await migrateToLatest(database, 'gateway')
  const events: RemediationTrackingEvent[] = []
  const module = createRemediationModule({
    database,
    config: remediationConfigSchema.parse(config),
    box: SecretBox.fromKey(randomBytes(32)),
    logger,
    recordTrackingEvent: async (event) => {
      events.push(event)
    },
  })
  return {
    database,
    module,
    events,
    async close() {
      await module.close()
      await database.close()
      await testDb.drop()
    },
  }
}
