import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import { deepMerge, silentLogger, validateConfig } from '@postern/core'
import { defaultExtensions } from '@postern/gateway'
import { Hub, hubConfigSchema } from '@postern/hub'
import { tempDir } from '@postern/testkit'
import { startGateway, type TestGateway } from '../../gateway/support/gateway.js'

export interface Stack {
  hub: Hub
  hubUrl: string
  hubAdmin: { email: string; password: string }
  /** A second hub user (analyst) who approves what the admin requests. */
  hubAnalyst: { email: string; password: string }
  gateway: TestGateway
  gatewayUrl: string
  gatewayAdmin: { username: string; password: string }
  /** Sends a message into the gateway over SMTP. */
  send(message: {
    from: string
    to: string[]
    subject: string
    text: string
    messageId?: string
    headers?: Record<string, string>
    attachments?: { filename: string; content: string }[]
  }): Promise<void>
  stop(): Promise<void>
}

/**
 * A real hub and a real gateway (every default extension, its console included) on ephemeral
 * ports, on SQLite, the gateway's cloud server for region "nam" pointing at the hub. Nothing is
 * registered: the browser tests do that through the consoles. `gateway` is deep-merged over the
 * gateway's configuration (lists replaced), e.g. other routes or remediation settings.
 */
export async function startStack(
  options: { gateway?: Record<string, unknown> } = {},
): Promise<Stack> {
  const dir = tempDir('postern-web-')
  const hubAdmin = { email: 'admin@example.com', password: 'correct horse battery staple' }
  const hubAnalyst = { email: 'analyst@example.com', password: 'another long passphrase' }
  writeFileSync(join(dir.path, 'hub-admin-password'), hubAdmin.password, { mode: 0o600 })
  const hub = await Hub.start({
    config: validateConfig(hubConfigSchema, {
      dataDir: join(dir.path, 'hub'),
      database: 'sqlite',
      listen: '127.0.0.1:0',
      region: 'nam',
      bootstrap: {
        org: 'Example',
        adminEmail: hubAdmin.email,
        adminPasswordFile: join(dir.path, 'hub-admin-password'),
      },
    }),
    logger: silentLogger(),
  })
  await hub.admin.createUser({
    email: hubAnalyst.email,
    role: 'admin',
    password: hubAnalyst.password,
    name: 'Analyst',
  })

  const gatewayAdmin = { username: 'admin', password: 'gateway admin passphrase' }
  writeFileSync(join(dir.path, 'gateway-admin-password'), gatewayAdmin.password, { mode: 0o600 })
  const gateway = await startGateway(
    deepMerge(
      {
        api: {
          initialAdmin: {
            username: gatewayAdmin.username,
            passwordFile: join(dir.path, 'gateway-admin-password'),
          },
        },
        cloud: { servers: { nam: hub.url } },
        smtpRoutes: [{ domain: 'corp.example', to: [`maildir:${join(dir.path, 'mailboxes')}`] }],
        pipeline: {
          workers: 1,
          authentication: { dns: { servers: ['127.0.0.1:9'], timeout: 200, tries: 1 } },
        },
      },
      options.gateway ?? {},
    ),
    { extensions: defaultExtensions() },
  )
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: gateway.smtpPort(),
    secure: false,
    ignoreTLS: true,
  })
  return {
    hub,
    hubUrl: hub.url,
    hubAdmin,
    hubAnalyst,
    gateway,
    gatewayUrl: gateway.httpUrl,
    gatewayAdmin,
    async send(message) {
      await transport.sendMail({
        ...message,
        envelope: { from: message.from.replace(/^.*<|>$/g, ''), to: message.to },
      })
    },
    async stop() {
      transport.close()
      await gateway.stop()
      await hub.stop()
      dir.remove()
    },
  }
}
