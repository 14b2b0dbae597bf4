import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateDkimKey, signMessage, type DkimKey } from '../../../../test/support/dkim.js'
import { startDnsResponder, type DnsResponder } from '../../../../test/support/dns-responder.js'
import { authenticateMessage, type AuthOptions } from './authenticate.js'
import { CachingResolver } from './caching-resolver.js'

const message = (from: string, body = 'Hello.\r\n'): Buffer =>
  Buffer.from(
    [
      `From: Sender <${from}>`,
      'To: bob@example.net',
      'Subject: auth test',
      'Message-ID: <auth-test@example.org>',
      'Date: Tue, 2 Jan 2024 10:00:00 +0000',
      '',
      body,
    ].join('\r\n'),
  )

describe('authenticateMessage against a local DNS server', () => {
  let dns: DnsResponder
  let key: DkimKey
  let resolver: CachingResolver
  let options: AuthOptions

  beforeAll(async () => {
    key = generateDkimKey(1024)
    dns = await startDnsResponder({
      'good.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
      '_dmarc.good.example': { TXT: ['v=DMARC1; p=reject'] },
      'sel._domainkey.good.example': { TXT: [key.txt] },
      'soft.example': { TXT: ['v=spf1 ~all'] },
      '_dmarc.soft.example': { TXT: ['v=DMARC1; p=quarantine'] },
      'nopolicy.example': { A: ['192.0.2.99'] },
    })
    dns.silence('slow.example')
    resolver = new CachingResolver({
      servers: [dns.address],
      timeoutMs: 200,
      tries: 1,
      positiveTtlMs: 60_000,
      negativeTtlMs: 60_000,
      failureTtlMs: 0,
      maxEntries: 1000,
    })
    options = {
      authservId: 'gw.test',
      resolver: resolver.resolve,
      minKeyBits: 1024,
      arc: true,
      dmarc: true,
      timeoutMs: 5_000,
    }
  })
  afterAll(async () => {
    resolver.cancel()
    await dns.close()
  })

  it('passes SPF, DKIM and DMARC for an aligned signed message from an allowed IP', async () => {
    const signed = await signMessage(message('alice@good.example'), {
      domain: 'good.example',
      selector: 'sel',
      privateKeyPem: key.privateKeyPem,
    })
    const result = await authenticateMessage(
      signed,
      { ip: '192.0.2.7', helo: 'mx.good.example', sender: 'alice@good.example' },
      options,
    )
    expect(result.spf).toMatchObject({ result: 'pass', domain: 'good.example' })
    expect(result.dkim.result).toBe('pass')
    expect(result.dkim.signatures).toEqual([
      expect.objectContaining({ domain: 'good.example', selector: 'sel', aligned: true }),
    ])
    expect(result.dmarc).toMatchObject({ result: 'pass', policy: 'reject', domain: 'good.example' })
    expect(result.headers).toMatch(/^Authentication-Results: gw\.test;$/m)
    expect(result.headers).toContain('dkim=pass')
    expect(result.headers).toContain('spf=pass')
    expect(result.headers).toContain('dmarc=pass')
  })

  // mailauth reports a body hash mismatch as `neutral (body hash did not verify)` (RFC 6376 §6.1.3).
  it('fails DKIM when the body changed after signing, and DMARC with it', async () => {
    const signed = await signMessage(message('alice@good.example'), {
      domain: 'good.example',
      selector: 'sel',
      privateKeyPem: key.privateKeyPem,
    })
    const tampered = Buffer.from(signed.toString().replace('Hello.', 'Pay now.'))
    const result = await authenticateMessage(
      tampered,
      { ip: '203.0.113.5', helo: 'evil.example', sender: 'alice@good.example' },
      options,
    )
    expect(result.spf.result).toBe('fail')
    expect(result.dkim.signatures[0]).toMatchObject({ result: 'neutral', domain: 'good.example' })
    expect(result.dkim.signatures[0]?.comment).toMatch(/body hash/)
    expect(result.dmarc).toMatchObject({ result: 'fail', policy: 'reject' })
  })

  it.each([
    ['soft.example', 'softfail', 'fail', 'quarantine'],
    ['nopolicy.example', 'none', 'none', null],
    ['unknown.example', 'none', 'none', null],
  ])('%s: spf=%s dmarc=%s', async (domain, spf, dmarc, policy) => {
    const result = await authenticateMessage(
      message(`someone@${domain}`),
      { ip: '198.51.100.1', helo: 'h.example', sender: `someone@${domain}` },
      options,
    )
    expect(result.spf.result).toBe(spf)
    expect(result.dmarc.result).toBe(dmarc)
    expect(result.dmarc.policy).toBe(policy)
  })

  it('answers temperror when DNS does not answer, within its timeout', async () => {
    const result = await authenticateMessage(
      message('someone@slow.example'),
      { ip: '198.51.100.1', helo: 'h.example', sender: 'someone@slow.example' },
      options,
    )
    expect(result.spf.result).toBe('temperror')
    expect(result.dmarc.result).toBe('temperror')
  })

  it('asks DNS once per name while the answer is cached', async () => {
    const run = () =>
      authenticateMessage(
        message('x@soft.example'),
        { ip: '198.51.100.2', helo: 'h.example', sender: 'x@soft.example' },
        options,
      )
    await run()
    const before = dns.queries.length
    await run()
    await run()
    expect(dns.queries.length).toBe(before)
    expect(resolver.stats().hits).toBeGreaterThan(0)
  })
})
