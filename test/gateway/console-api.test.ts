import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger, systemClock } from '@postern/core'
import { contentPipelineExtension } from '../../apps/gateway/src/pipeline/extension.js'
import { compileAllPolicies } from '../../apps/gateway/src/pipeline/setup.js'
import { PolicyEditor, type CompiledPolicies } from '../../apps/gateway/src/policy/policy-editor.js'
import { MailPoliciesRepo } from '@postern/store'
import { BACKENDS } from '@postern/store/testing'
import { waitFor } from '@postern/testkit'
import { sendWithNodemailer } from './support/clients.js'
import { startGateway, type TestGateway } from './support/gateway.js'

interface PolicyView {
  source: 'configuration' | 'console'
  document: { incoming: { name: string; rules: unknown[] }[] } & Record<string, unknown>
  updatedBy: string | null
  quarantines: string[]
}

const MARK_RULE = {
  name: 'console-marked',
  when: { header: { name: 'X-Console-Test', exists: true } },
  then: { quarantine: 'policy' },
}

/** The console's API additions: mail policies read, edited and reset; bouncing a queued message. */
describe.each(BACKENDS)('console API routes (%s)', (dialect) => {
  let gw: TestGateway
  let operator: string

  /** A policy editor as a process starting on this database would make it. */
  const startingEditor = () =>
    new PolicyEditor({
      config: gw.config.pipeline,
      repo: new MailPoliciesRepo(gw.gateway.database.db),
      audit: null,
      clock: systemClock,
      logger: silentLogger(),
      compile: compileAllPolicies,
    })
  const policyNames = (compiled: CompiledPolicies) =>
    compiled.incoming.flatMap((p) => p.rules.map((r) => r.name))

  /** Sends a message that stays in the queue, deferred (nothing listens where it goes). */
  async function deferredMessage(to: string, subject: string): Promise<number> {
    const reply = await sendWithNodemailer({
      port: gw.smtpPort(),
      from: 'sender@ext.example',
      to,
      subject,
    })
    const mid = Number(/queued as (\d+)/.exec(reply)?.[1])
    await waitFor(
      async () =>
        (await gw.api<{ state: string }>('GET', `/api/v1/queue/${mid}`)).body.state === 'deferred',
      { what: 'the message deferred', timeoutMs: 30_000 },
    )
    return mid
  }

  beforeAll(async () => {
    gw = await startGateway(
      {
        // Nothing listens there: delivered mail stays deferred in the queue.
        smtpRoutes: [{ domain: '*', to: ['127.0.0.1:9'] }],
        queue: { retry: { initialDelay: '1h', maxDelay: '1h' } },
        pipeline: {
          workers: 1,
          authentication: { dns: { servers: ['127.0.0.1:9'], timeout: 200, tries: 1 } },
        },
      },
      { dialect, extensions: [contentPipelineExtension()] },
    )
    operator = (
      await gw.api<{ token: string }>('POST', '/api/v1/tokens', {
        name: 'analyst',
        role: 'operator',
      })
    ).body.token
  })
  afterAll(async () => {
    await gw?.stop()
  })

  it('reads the configured policies, refuses invalid documents with where and why', async () => {
    const read = await gw.api<PolicyView>('GET', '/api/v1/policies', undefined, operator)
    expect(read.status).toBe(200)
    expect(read.body.source).toBe('configuration')
    expect(read.body.document.incoming.map((p) => p.name)).toEqual(['default'])
    expect(read.body.quarantines).toContain('policy')

    const rule = (then: unknown, when: unknown = { verdict: 'spam' }) => ({
      incoming: [{ name: 'default', rules: [{ name: 'r', when, then }] }],
    })
    const cases: { document: unknown; says: RegExp }[] = [
      { document: rule({ quarantine: 'nowhere' }), says: /"nowhere", which is not configured/ },
      {
        document: rule({ quarantine: 'policy' }, { verdict: 'not-a-verdict' }),
        says: /incoming\.0\.rules\.0\.when\.verdict/,
      },
      { document: { incoming: [], colour: 'red' }, says: /colour/ },
      {
        document: {
          incoming: [
            { name: 'twice', rules: [] },
            { name: 'twice', rules: [] },
          ],
        },
        says: /another incoming policy has this name/,
      },
    ]
    for (const { document, says } of cases) {
      const saved = await gw.api<{ error: { code: string; message: string } }>(
        'PUT',
        '/api/v1/policies',
        { document },
      )
      expect(saved.status, JSON.stringify(document)).toBe(400)
      expect(saved.body.error.code).toBe('GW_ERR_POLICY_DOCUMENT_INVALID')
      expect(saved.body.error.message).toMatch(says)
    }
    expect((await gw.api<PolicyView>('GET', '/api/v1/policies')).body.source).toBe('configuration')
    const failures = await gw.gateway.audit.list({ action: 'policies.update' })
    expect(failures.entries.every((e) => e.outcome === 'failure')).toBe(true)
    expect(failures.entries.length).toBe(cases.length)
  })

  it('saves a policy document that applies at once, is stored and audited; reset returns to the configuration', async () => {
    const { document } = (await gw.api<PolicyView>('GET', '/api/v1/policies')).body
    const edited = {
      ...document,
      incoming: [{ ...document.incoming[0]!, rules: [MARK_RULE, ...document.incoming[0]!.rules] }],
    }
    expect((await gw.api('PUT', '/api/v1/policies', { document: edited }, operator)).status).toBe(
      403,
    )
    const saved = await gw.api<PolicyView>('PUT', '/api/v1/policies', { document: edited })
    expect(saved.status).toBe(200)
    expect(saved.body).toMatchObject({ source: 'console', updatedBy: 'local-cli' })
    const stored = await new MailPoliciesRepo(gw.gateway.database.db).get()
    expect(JSON.parse(stored!.document)).toEqual(edited)

    await sendWithNodemailer({
      port: gw.smtpPort(),
      from: 'someone@ext.example',
      to: 'bob@corp.example',
      subject: 'marked by the console rule',
      headers: { 'X-Console-Test': 'yes' },
    })
    const held = await waitFor(
      async () => {
        const list = await gw.api<{ items: { reason: string }[] }>(
          'GET',
          '/api/v1/quarantine/messages?search=marked%20by%20the%20console',
        )
        return list.body.items[0] ?? false
      },
      { what: 'the message quarantined by the saved rule', timeoutMs: 30_000 },
    )
    expect(held.reason).toContain('console-marked')
    const audit = await gw.gateway.audit.list({ action: 'policies.update' })
    expect(audit.entries[0]).toMatchObject({
      outcome: 'success',
      target: { type: 'mail-policies' },
    })

    // What a process starting on this database uses: the stored document.
    expect(policyNames(await startingEditor().load())).toContain('console-marked')

    const reset = await gw.api<PolicyView>('DELETE', '/api/v1/policies')
    expect(reset.body.source).toBe('configuration')
    expect(await new MailPoliciesRepo(gw.gateway.database.db).get()).toBeUndefined()
  })

  it('starts with the configuration’s policies when the stored document no longer compiles', async () => {
    const repo = new MailPoliciesRepo(gw.gateway.database.db)
    await repo.put({
      document: JSON.stringify({
        incoming: [{ name: 'old', rules: [{ ...MARK_RULE, then: { quarantine: 'gone' } }] }],
      }),
      updatedAt: 1,
      updatedBy: 'someone',
    })
    const editor = startingEditor()
    const compiled = await editor.load()
    expect(editor.view().source).toBe('configuration')
    expect(compiled.incoming.map((p) => p.name)).toEqual(['default', 'built-in default'])
    await repo.remove()
  })

  it('deletes a queued message without a DSN, audited like the bounce', async () => {
    const mid = await deferredMessage('dave@corp.example', 'to be deleted')
    expect((await gw.api('DELETE', `/api/v1/queue/${mid}`, undefined, operator)).status).toBe(200)
    expect((await gw.api('GET', `/api/v1/queue/${mid}`)).status).toBe(404)
    const audit = await gw.gateway.audit.list({ action: 'queue.delete' })
    expect(audit.entries[0]).toMatchObject({
      actor: { id: 'analyst' },
      target: { type: 'message', id: String(mid) },
    })
  })

  it('bounces a queued message: a DSN goes to the sender, tracking says bounced, the audit log who', async () => {
    const mid = await deferredMessage('carol@corp.example', 'to be returned')
    expect((await gw.api('POST', `/api/v1/queue/${mid}/bounce`, undefined, operator)).status).toBe(
      200,
    )
    expect((await gw.api('GET', `/api/v1/queue/${mid}`)).status).toBe(404)
    expect((await gw.api('POST', `/api/v1/queue/${mid}/bounce`)).body).toMatchObject({
      error: { code: 'GW_ERR_QUEUE_MESSAGE_NOT_FOUND' },
    })
    const dsn = await waitFor(
      async () => {
        const queued = await gw.api<{ items: { from: string; subject: string | null }[] }>(
          'GET',
          '/api/v1/queue',
        )
        return queued.body.items.find((i) => i.from === '') ?? false
      },
      { what: 'the DSN in the queue', timeoutMs: 10_000 },
    )
    expect(dsn.subject).toBe('Undelivered Mail Returned to Sender')
    await waitFor(
      async () =>
        (await gw.api<{ message: { status: string } }>('GET', `/api/v1/tracking/messages/${mid}`))
          .body.message.status === 'bounced',
      { what: 'tracking status bounced', timeoutMs: 10_000 },
    )
    const audit = await gw.gateway.audit.list({ action: 'queue.bounce' })
    expect(audit.entries[0]).toMatchObject({
      actor: { id: 'analyst' },
      target: { type: 'message', id: String(mid) },
    })
  })
})
