import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '@postern/core'
import { WatchNotifier, type WatchNotification } from './notifiers.js'
import { internalTargetReason, isInternalAddress } from './webhook-target.js'

describe('isInternalAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.20.0.1', true],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['fd00::1', true],
    ['fe80::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:7f00:1', true],
    ['::ffff:cb00:7107', false],
    ['203.0.113.7', false],
    ['2001:db8::1', false],
    ['not-an-ip', false],
  ])('%s → %s', (address, internal) => {
    expect(isInternalAddress(address)).toBe(internal)
  })
})

describe('internalTargetReason', () => {
  it('checks literal hosts and what names resolve to', async () => {
    expect(await internalTargetReason('http://[::1]:8080/x')).toMatch(/internal address/)
    expect(await internalTargetReason('http://[::ffff:127.0.0.1]/x')).toMatch(/internal address/)
    expect(await internalTargetReason('https://169.254.169.254/latest')).toMatch(
      /169\.254\.169\.254/,
    )
    expect(
      await internalTargetReason('https://hooks.example/x', async () => ['203.0.113.9']),
    ).toBeNull()
    expect(
      await internalTargetReason('https://rebind.example/x', async () => [
        '203.0.113.9',
        '10.0.0.5',
      ]),
    ).toMatch(/10\.0\.0\.5/)
  })
})

describe('a webhook to an internal address', () => {
  let server: Server
  let url: string
  let hits = 0
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++
      res.writeHead(204).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
  })

  it('is refused unless the operator allows internal targets', async () => {
    const notification = {
      orgId: 'org-a',
      watch: {
        id: 'watch-1',
        orgId: 'org-a',
        observable: { type: 'domain', value: 'evil.example' },
        note: null,
        createdBy: 'alice',
        notify: { console: false, webhook: url, email: null },
        incidentMode: 'none',
        incidentId: null,
        active: true,
        sightingCount: 0,
        lastSightingAt: null,
        created: 0,
        modified: 0,
      },
      sighting: {
        watchId: 'watch-1',
        observedAt: 0,
        recordedAt: 0,
        deviceId: 'gw',
        messageRef: '1',
        messageId: null,
        details: {},
      },
      incidentId: null,
    } satisfies WatchNotification
    const strict = new WatchNotifier({ logger: silentLogger() })
    expect(await strict.notify(notification)).toEqual([
      {
        channel: 'webhook',
        ok: false,
        error: expect.stringMatching(/internal address \(127\.0\.0\.1\)/),
      },
    ])
    expect(hits).toBe(0)
    const lenient = new WatchNotifier({ logger: silentLogger(), allowInternalWebhooks: true })
    expect(await lenient.notify(notification)).toEqual([{ channel: 'webhook', ok: true }])
    expect(hits).toBe(1)
  })
})
