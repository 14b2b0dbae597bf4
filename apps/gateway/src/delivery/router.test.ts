import type { promises as dns } from 'node:dns'
import { describe, expect, it } from 'vitest'
import { silentLogger, validateConfig } from '@postern/core'
import { gatewayConfigSchema } from '../config.js'
import { buildDsn, headerSection } from './dsn.js'
import { mailboxPath } from './maildir-transport.js'
import { RetryHeap } from './retry-heap.js'
import { Router } from './router.js'

function errno(code: string) {
  return Object.assign(new Error(code), { code })
}

const resolver = {
  resolveMx: async (domain: string) => {
    if (domain === 'mx.example')
      return [
        { exchange: 'mx2.mx.example', priority: 20 },
        { exchange: 'mx1.mx.example.', priority: 10 },
      ]
    if (domain === 'nullmx.example') return [{ exchange: '', priority: 0 }]
    if (domain === 'nomx.example') throw errno('ENODATA')
    if (domain === 'servfail.example') throw errno('ESERVFAIL')
    throw errno('ENOTFOUND')
  },
  resolve4: async (domain: string) =>
    domain === 'nomx.example' ? ['192.0.2.25'] : Promise.reject(errno('ENODATA')),
  resolve6: async () => Promise.reject(errno('ENODATA')),
} as unknown as dns.Resolver

function router(routes: unknown[]) {
  const config = validateConfig(gatewayConfigSchema, { smtpRoutes: routes })
  return new Router({ config, allocateDcid: () => 1, logger: silentLogger(), resolver })
}

describe('Router', () => {
  const r = router([
    { domain: 'corp.example', to: ['10.0.0.5:2525'] },
    { domain: '.corp.example', to: ['10.0.0.6'] },
    { domain: '.eu.corp.example', to: ['10.0.0.7'] },
    { domain: '*', to: ['smarthost.example:587'] },
  ])
  it.each([
    ['a@corp.example', '10.0.0.5:2525'],
    ['a@x.corp.example', '10.0.0.6'],
    ['a@x.eu.corp.example', '10.0.0.7'],
    ['a@elsewhere.example', 'smarthost.example:587'],
  ])('routes %s to %s (exact, longest suffix, *)', (recipient, target) => {
    expect(r.routeFor(recipient)?.to).toEqual([target])
  })

  it('shares one transport per destination', async () => {
    const a = await r.resolve('a@corp.example')
    const b = await r.resolve('b@CORP.example')
    expect(a.kind === 'transport' && b.kind === 'transport' && a.transport === b.transport).toBe(
      true,
    )
  })

  it.each([
    ['user@mx.example', 'smtp:mx1.mx.example:25,mx2.mx.example:25|opportunistic|false'],
    ['user@nomx.example', 'smtp:nomx.example:25|opportunistic|false'],
  ])(
    'routes %s to its MX hosts by preference, or the implicit MX (RFC 5321 §5.1)',
    async (recipient, key) => {
      const decision = await router([]).resolve(recipient)
      expect(decision.kind === 'transport' ? decision.transport.key : decision).toBe(key)
    },
  )

  it.each([
    ['user@nullmx.example', 'bounced', '5.1.10'],
    ['user@nxdomain.example', 'bounced', '5.1.2'],
    ['user@servfail.example', 'deferred', '4.4.3'],
  ])(
    'does not route %s (null MX per RFC 7505, no domain, DNS failure)',
    async (recipient, status, enhanced) => {
      expect(await router([]).resolve(recipient)).toMatchObject({ kind: 'fail', status, enhanced })
    },
  )
})

describe('mailboxPath', () => {
  it.each([
    ['Alice@Example.COM', ['example.com', 'alice']],
    ['a/b@example.com', ['example.com', 'a%2Fb']],
    ['..@example.com', ['example.com', '%2E.']],
    ['.hidden@example.com', ['example.com', '%2Ehidden']],
    ['zoë@exämple.com', ['ex%C3%A4mple.com', 'zo%C3%AB']],
    ['x@../../etc', ['%2E.%2F..%2Fetc', 'x']],
  ])('%s → %j', (recipient, expected) => {
    expect(mailboxPath(recipient)).toEqual(expected)
  })
})

describe('buildDsn', () => {
  it('builds a multipart/report with per-recipient fields in 7-bit text', () => {
    const dsn = buildDsn({
      hostname: 'gw.test',
      mid: 7,
      originalSender: 'a@ext.example',
      arrivalDate: 0,
      now: 1000,
      expired: false,
      originalHeaders: headerSection(
        Buffer.from('Subject: hi\r\nFrom: a@ext.example\r\n\r\nbody\r\n'),
      ),
      failed: [
        {
          recipient: 'b@corp.example',
          status: '5.1.1',
          diagnostic: '550 5.1.1 no such user \u00e9\r\nInjected: x',
          remoteMta: 'mx.corp.example:25',
          lastAttemptAt: 900,
        },
        {
          recipient: 'zoë@corp.example',
          status: '5.7.1',
          diagnostic: 'policy',
          lastAttemptAt: 900,
        },
      ],
    }).toString('utf8')
    expect(dsn).toMatch(/^From: Mail Delivery System <MAILER-DAEMON@gw\.test>\r\n/)
    expect(dsn).toContain('Content-Type: multipart/report; report-type=delivery-status;')
    expect(dsn).toContain('Reporting-MTA: dns; gw.test\r\nX-Postern-Queue-ID: 7\r\n')
    expect(dsn).toContain(
      'Final-Recipient: rfc822;b@corp.example\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.corp.example:25\r\n',
    )
    expect(dsn).toContain('Diagnostic-Code: smtp; 550 5.1.1 no such user ???Injected: x')
    expect(dsn).toContain('Final-Recipient: utf-8;zo?@corp.example')
    expect(dsn).toContain(
      'Content-Type: text/rfc822-headers\r\nContent-Description: Undelivered message headers\r\n\r\nSubject: hi\r\nFrom: a@ext.example\r\n',
    )
    expect(dsn).not.toContain('body')
  })
})

describe('RetryHeap', () => {
  it('pops in due order', () => {
    const heap = new RetryHeap<string>()
    for (const [at, key] of [
      [5, 'e'],
      [1, 'a'],
      [3, 'c'],
      [2, 'b'],
      [4, 'd'],
    ] as const)
      heap.push(at, key, 0)
    const out: string[] = []
    for (let top = heap.pop(); top; top = heap.pop()) out.push(top.key)
    expect(out).toEqual(['a', 'b', 'c', 'd', 'e'])
  })
})
