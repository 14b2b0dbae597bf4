import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '@postern/core'
import { requireNats } from '@postern/testkit'
import { tunnelErrors } from '@postern/tunnel'
import { hubErrors } from '../errors.js'
import { ClusterBus } from './cluster-bus.js'

/**
 * Two hub nodes' buses on the machine's NATS server, each under a prefix of its own run so that
 * parallel suites sharing the server never see each other's subjects.
 */
describe('cluster bus (NATS)', () => {
  const prefix = `postern-test.${randomUUID().replaceAll('-', '')}`
  let holder: ClusterBus
  let caller: ClusterBus

  const open = async (nodeId: string) =>
    ClusterBus.connect({
      url: await requireNats(),
      prefix,
      nodeId,
      connectTimeoutMs: 5_000,
      routeMarginMs: 500,
      logger: silentLogger(),
    })

  beforeAll(async () => {
    holder = await open('node-a')
    caller = await open('node-b')
  })
  afterAll(async () => {
    await holder?.close()
    await caller?.close()
  })

  it('routes a call to the node serving the device and returns its answer', async () => {
    const seen: unknown[] = []
    const stop = await holder.serveDevice('dev-1', {
      call: async (call) => {
        seen.push(call)
        return { data: { echoed: call.body } }
      },
      revoke: () => undefined,
    })
    try {
      const result = await caller.callDevice('dev-1', {
        orgId: 'org-1',
        path: '/observe/observables',
        body: [{ type: 'ip', value: '192.0.2.1' }],
        timeoutMs: 5_000,
      })
      expect(result).toEqual({ data: { echoed: [{ type: 'ip', value: '192.0.2.1' }] } })
      expect(seen).toEqual([
        {
          orgId: 'org-1',
          path: '/observe/observables',
          body: [{ type: 'ip', value: '192.0.2.1' }],
          timeoutMs: 5_000,
        },
      ])
    } finally {
      stop()
    }
  })

  it.each([
    {
      name: 'a coded error of the serving node keeps its code',
      fail: () => hubErrors.DEVICE_NOT_CONNECTED({ deviceId: 'dev-2' }),
      code: hubErrors.DEVICE_NOT_CONNECTED.code,
    },
    {
      name: 'an uncoded failure becomes CLUSTER_CALL_FAILED',
      fail: () => new Error('boom'),
      code: hubErrors.CLUSTER_CALL_FAILED.code,
    },
  ])('$name', async ({ fail, code }) => {
    const stop = await holder.serveDevice('dev-2', {
      call: async () => {
        throw fail()
      },
      revoke: () => undefined,
    })
    try {
      await expect(
        caller.callDevice('dev-2', { orgId: 'o', path: '/health', body: {}, timeoutMs: 5_000 }),
      ).rejects.toMatchObject({ code })
    } finally {
      stop()
    }
  })

  it('answers DEVICE_NOT_CONNECTED at once when no node holds the tunnel', async () => {
    await expect(
      caller.callDevice('dev-nobody', { orgId: 'o', path: '/health', body: {}, timeoutMs: 60_000 }),
    ).rejects.toMatchObject({ code: hubErrors.DEVICE_NOT_CONNECTED.code })
  })

  it('times out with TUNNEL_ERR_TIMEOUT when the serving node does not answer', async () => {
    const stop = await holder.serveDevice('dev-slow', {
      call: () => new Promise(() => undefined),
      revoke: () => undefined,
    })
    try {
      await expect(
        caller.callDevice('dev-slow', { orgId: 'o', path: '/health', body: {}, timeoutMs: 200 }),
      ).rejects.toMatchObject({ code: tunnelErrors.TIMEOUT.code })
    } finally {
      stop()
    }
  })

  it('refuses device ids that are not a single subject token', async () => {
    await expect(
      caller.callDevice('a.>', { orgId: 'o', path: '/health', body: {}, timeoutMs: 1_000 }),
    ).rejects.toMatchObject({ code: hubErrors.DEVICE_NOT_CONNECTED.code })
  })

  it('delivers a revocation to the node holding the tunnel', async () => {
    let revoked!: () => void
    const done = new Promise<void>((resolve) => (revoked = resolve))
    const stop = await holder.serveDevice('dev-3', {
      call: async () => null,
      revoke: () => revoked(),
    })
    try {
      caller.revokeDevice('dev-3')
      await done
    } finally {
      stop()
    }
  })
})
