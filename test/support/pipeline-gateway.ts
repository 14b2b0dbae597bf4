import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import { deepMerge, silentLogger, validateConfig } from '@postern/core'
import { createTestDatabase, type TestDatabase } from '@postern/store/testing'
import type { Dialect } from '@postern/store'
import { tempDir, waitFor } from '@postern/testkit'
import { gatewayConfigSchema, type GatewayConfig } from '../../apps/gateway/src/config.js'
import { Gateway, type GatewayExtension } from '../../apps/gateway/src/gateway.js'
import { contentPipelineExtension } from '../../apps/gateway/src/pipeline/extension.js'
import type { ContentPipelineSetup } from '../../apps/gateway/src/pipeline/setup.js'

/** A gateway with the content pipeline, delivering into a Maildir tree, for end-to-end tests. */
export interface PipelineGateway {
  gateway: Gateway
  config: GatewayConfig
  content: ContentPipelineSetup
  maildir: string
  /** Base URL of the HTTP API. */
  httpUrl: string
  /** The local CLI credential (an admin token). */
  token(): string
  port(listener: 'inbound' | 'outbound'): number
  /** Sends a raw message over SMTP with nodemailer (a real client). */
  send(
    listener: 'inbound' | 'outbound',
    envelope: { from: string; to: string[] },
    raw: Buffer | string,
  ): Promise<{ response: string }>
  /** Messages delivered to one recipient's Maildir (`new/`), oldest first. */
  delivered(recipient: string): string[]
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>
  /** Waits until the tracking database has caught up with what was written so far. */
  flush(): Promise<void>
  stop(): Promise<void>
}

/**
 * Starts an in-process gateway (ephemeral ports, its own data directory and database) with
 * an inbound listener (internet side: ACCEPTED, RAT corp.example) and an outbound one
 * (RELAYED: mail from the organisation), every domain routed into a Maildir tree.
 */
export async function startPipelineGateway(
  pipeline: Record<string, unknown>,
  options: {
    dialect?: Dialect
    overrides?: Record<string, unknown>
    /** Extensions after the pipeline, given its setup once it is ready (cloud, hub intel …). */
    extensions?: (content: () => ContentPipelineSetup) => GatewayExtension[]
    /** A further recipient domain the inbound listener accepts, delivered over SMTP/LMTP to `to`. */
    mailboxDomain?: { domain: string; to: string }
  } = {},
): Promise<PipelineGateway> {
  const dir = tempDir('postern-pipeline-')
  const testDb: TestDatabase | undefined =
    options.dialect === 'postgres' ? await createTestDatabase('postgres') : undefined
  const maildir = join(dir.path, 'maildir')
  const { mailboxDomain } = options
  const config = validateConfig(
    gatewayConfigSchema,
    deepMerge(
      {
        dataDir: join(dir.path, 'data'),
        database: testDb?.configValue ?? 'sqlite',
        hostname: 'gw.corp.example',
        http: '127.0.0.1:0',
        log: { level: 'silent' },
        rdns: { forTracking: false },
        tracking: { flushInterval: '20ms' },
        listeners: [
          {
            name: 'inbound',
            smtp: '127.0.0.1:0',
            rat: [
              { recipient: 'corp.example', action: 'ACCEPT' },
              ...(mailboxDomain ? [{ recipient: mailboxDomain.domain, action: 'ACCEPT' }] : []),
            ],
            lineEndings: 'normalize',
          },
          {
            name: 'outbound',
            smtp: '127.0.0.1:0',
            hat: [{ senderGroup: 'ORG', match: ['127.0.0.1'], policy: 'RELAYED' }],
          },
        ],
        smtpRoutes: [
          ...(mailboxDomain
            ? [{ domain: mailboxDomain.domain, to: [mailboxDomain.to], tls: 'none' }]
            : []),
          { domain: '*', to: [`maildir:${maildir}`] },
        ],
        pipeline,
      },
      options.overrides ?? {},
    ),
  )
  let content: ContentPipelineSetup | undefined
  const gateway = await Gateway.create(config, {
    logger: silentLogger(),
    extensions: [
      contentPipelineExtension((setup) => (content = setup)),
      ...(options.extensions?.(() => content as ContentPipelineSetup) ?? []),
    ],
  })
  const addresses = await gateway.start()
  const httpUrl = `http://127.0.0.1:${addresses.http.port}`
  const token = (): string => readFileSync(join(config.dataDir, 'cli-token'), 'utf8').trim()
  const port = (listener: 'inbound' | 'outbound'): number =>
    (addresses.smtp[listener] as { port: number }).port
  return {
    gateway,
    config,
    content: content as ContentPipelineSetup,
    maildir,
    httpUrl,
    token,
    port,
    async send(listener, envelope, raw) {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: port(listener),
        secure: false,
        ignoreTLS: true,
        name: listener === 'inbound' ? 'mx.sender.example' : 'laptop.corp.example',
      })
      try {
        const info = await transport.sendMail({ envelope, raw })
        return { response: info.response }
      } finally {
        transport.close()
      }
    },
    delivered(recipient) {
      const [local, domain] = recipient.split('@') as [string, string]
      const folder = join(maildir, domain, local, 'new')
      if (!existsSync(folder)) return []
      return readdirSync(folder)
        .sort()
        .map((f) => readFileSync(join(folder, f), 'utf8'))
    },
    async api<T>(method: string, path: string, body?: unknown) {
      const response = await fetch(`${httpUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token()}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      })
      const text = await response.text()
      let parsed: unknown = text
      try {
        parsed = JSON.parse(text)
      } catch {
        // not JSON (a raw message download)
      }
      return { status: response.status, body: parsed as T }
    },
    async flush() {
      await gateway.tracking.writer.flush()
    },
    async stop() {
      await gateway.stop()
      await testDb?.drop()
      dir.remove()
    },
  }
}

/** Polls tracking until message `mid` reaches a final status. */
export async function waitForStatus(
  gw: PipelineGateway,
  mid: number,
  statuses: readonly string[],
): Promise<string> {
  return waitFor(
    async () => {
      await gw.flush()
      const message = await gw.gateway.tracking.store.getMessage(mid)
      return message && statuses.includes(message.status) ? message.status : false
    },
    { timeoutMs: 30_000, what: `MID ${mid} to be ${statuses.join(' or ')}` },
  )
}
