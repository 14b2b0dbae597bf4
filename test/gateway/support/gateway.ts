import type { promises as dns } from 'node:dns'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { deepMerge, silentLogger, validateConfig } from '@postern/core'
import {
  Gateway,
  gatewayConfigSchema,
  type GatewayConfig,
  type GatewayExtension,
} from '@postern/gateway'
import { createTestDatabase, type TestDatabase } from '@postern/store/testing'
import type { Dialect } from '@postern/store'
import { tempDir } from '@postern/testkit'
import { ReverseDns } from '../../../apps/gateway/src/smtp/rdns.js'

export interface TestGateway {
  gateway: Gateway
  config: GatewayConfig
  dataDir: string
  smtpPort(listener?: string): number
  httpUrl: string
  /** An admin token (the local CLI credential). */
  adminToken(): string
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: T }>
  stop(): Promise<void>
}

/** Reverse DNS answers for tests: address → PTR name, name → addresses. */
export interface FakeDns {
  ptr?: Record<string, string>
  a?: Record<string, string[]>
}

export function fakeReverseDns(records: FakeDns = {}): ReverseDns {
  const notFound = () => Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })
  const resolver = {
    reverse: async (ip: string) => {
      const name = records.ptr?.[ip]
      if (!name) throw notFound()
      return [name]
    },
    resolve4: async (name: string) => records.a?.[name] ?? Promise.reject(notFound()),
    resolve6: async (name: string) => records.a?.[name] ?? Promise.reject(notFound()),
  } as unknown as dns.Resolver
  return new ReverseDns({ timeoutMs: 1_000, cacheTtlMs: 60_000, cacheSize: 1_000, resolver })
}

/** Base config of a test gateway; `overrides` is deep-merged over it (lists replaced). */
export function testConfig(
  dataDir: string,
  database: string,
  overrides: Record<string, unknown> = {},
) {
  return deepMerge(
    {
      dataDir,
      database,
      hostname: 'gw.test',
      http: '127.0.0.1:0',
      log: { level: 'silent' },
      rdns: { forTracking: false },
      tracking: { flushInterval: '20ms' },
      listeners: [
        {
          name: 'inbound',
          smtp: '127.0.0.1:0',
          rat: [{ recipient: 'corp.example', action: 'ACCEPT' }],
        },
      ],
    },
    overrides,
  )
}

/**
 * An in-process gateway on ephemeral ports, its own data directory and database (SQLite by
 * default, or a fresh PostgreSQL database), stopped and removed by `stop`.
 */
export async function startGateway(
  overrides: Record<string, unknown> = {},
  options: {
    dialect?: Dialect
    dns?: FakeDns
    extensions?: GatewayExtension[]
    /** Runs before the gateway opens its data directory (e.g. mounts a filesystem in it). */
    prepareDataDir?: (dataDir: string) => Promise<() => Promise<void>>
  } = {},
): Promise<TestGateway> {
  const dir = tempDir('postern-gw-')
  const testDb: TestDatabase | undefined =
    options.dialect === 'postgres' ? await createTestDatabase('postgres') : undefined
  const config = validateConfig(
    gatewayConfigSchema,
    testConfig(join(dir.path, 'data'), testDb?.configValue ?? 'sqlite', overrides),
  )
  const releaseDataDir = await options.prepareDataDir?.(config.dataDir)
  const gateway = await Gateway.create(config, {
    logger: silentLogger(),
    rdns: fakeReverseDns(options.dns),
    extensions: options.extensions ?? [],
  })
  const addresses = await gateway.start()
  const httpUrl = `http://127.0.0.1:${addresses.http.port}`
  // Written by the gateway at start, mode 0600 (what the CLI uses).
  const adminToken = () => readFileSync(join(config.dataDir, 'cli-token'), 'utf8').trim()
  return {
    gateway,
    config,
    dataDir: config.dataDir,
    smtpPort: (listener = 'inbound') => (addresses.smtp[listener] as { port: number }).port,
    httpUrl,
    adminToken,
    async api<T>(method: string, path: string, body?: unknown, token?: string) {
      const response = await fetch(`${httpUrl}${path}`, {
        method,
        headers: {
          ...(token !== '' ? { authorization: `Bearer ${token ?? adminToken()}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      })
      const text = await response.text()
      let parsed: unknown = text
      try {
        parsed = JSON.parse(text)
      } catch {
        // not JSON (metrics)
      }
      return { status: response.status, body: parsed as T }
    },
    async stop() {
      await gateway.stop()
      await releaseDataDir?.()
      await testDb?.drop()
      dir.remove()
    },
  }
}

/** Writes a gateway config file (JSON is YAML) for the `postern` binary in a child process. */
export function writeConfigFile(path: string, config: Record<string, unknown>): void {
  writeFileSync(path, JSON.stringify(config, null, 2))
}
