import { describe, expect, it } from 'vitest'
import { canonicalDomain, canonicalIPv6, isPublicDomain, registrableDomainOf } from './hosts.js'
import { normalizeObservable, tryNormalizeObservable, uniqueObservables } from './normalize.js'
import { OBSERVABLE_TYPES, isObservableType } from './observable-types.js'

describe('observable vocabulary', () => {
  it('has every CTIM type of the reference and no duplicates', () => {
    expect(new Set(OBSERVABLE_TYPES).size).toBe(OBSERVABLE_TYPES.length)
    expect(OBSERVABLE_TYPES).toHaveLength(63)
    for (const type of [
      'ip',
      'ipv6',
      'domain',
      'url',
      'email',
      'sha256',
      'cisco_mid',
      'email_messageid',
      'secure_access_id',
      'service_now_id',
    ]) {
      expect(isObservableType(type)).toBe(true)
    }
    expect(isObservableType('hash')).toBe(false)
  })
})

describe('normalizeObservable', () => {
  it.each([
    ['ip', ' 192.0.2.1 ', '192.0.2.1'],
    ['ip', '192.0.2[.]1', '192.0.2.1'],
    ['ipv6', '2001:DB8:0:0::1', '2001:db8::1'],
    ['ipv6', '[fe80::1%eth0]', 'fe80::1'],
    ['domain', 'Evil.COM.', 'evil.com'],
    ['domain', 'evil[.]com', 'evil.com'],
    ['domain', 'bücher.de', 'xn--bcher-kva.de'],
    ['domain', 'corp.local', 'corp.local'],
    ['domain', '_dmarc.example.com', '_dmarc.example.com'],
    ['hostname', 'DESKTOP-7Q2LK3M', 'desktop-7q2lk3m'],
    ['hostname', 'ws01.corp.int1', 'ws01.corp.int1'],
    ['url', 'HTTPS://Evil.com:443/A', 'https://evil.com/A'],
    ['email', 'Alice@Example.COM', 'alice@example.com'],
    ['email', 'mailto:bob@example.com', 'bob@example.com'],
    ['email', '<carol@example.com>', 'carol@example.com'],
    ['email', 'dave@[192.0.2.1]', 'dave@[192.0.2.1]'],
    ['email', 'erin@[IPv6:2001:db8::1]', 'erin@[IPv6:2001:db8::1]'],
    ['email', 'josé@example.es', 'josé@example.es'],
    [
      'sha256',
      'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ],
    [
      'sha1',
      'DA39A3EE5E6B4B0D3255BFEF95601890AFD80709',
      'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    ],
    ['md5', ' D41D8CD98F00B204E9800998ECF8427E ', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['email_messageid', 'abc@example.com', '<abc@example.com>'],
    ['email_messageid', ' <abc@example.com> ', '<abc@example.com>'],
    ['email_subject', '  Your   invoice\tis ready ', 'Your invoice is ready'],
    ['cisco_mid', '04242', '4242'],
    ['cisco_mid', '12345-esa01', '12345-esa01'],
    ['mac_address', '00-1A-2B-3C-4D-5E', '00:1a:2b:3c:4d:5e'],
    ['mac_address', '001a.2b3c.4d5e', '00:1a:2b:3c:4d:5e'],
    ['file_name', '"invoice.pdf"', 'invoice.pdf'],
    ['user', ' CORP\\jdoe ', 'CORP\\jdoe'],
    ['imei', ' 490154203237518 ', '490154203237518'],
  ])('%s %j → %j', (type, value, expected) => {
    expect(normalizeObservable({ type, value })).toEqual({ type, value: expected })
  })

  it.each([
    ['ip', '010.0.0.1'],
    ['ip', '256.1.1.1'],
    ['ip', '2001:db8::1'],
    ['ipv6', '192.0.2.1'],
    ['domain', 'localhost'],
    ['domain', '-bad.com'],
    ['domain', 'bad-.com'],
    ['domain', 'a..b.com'],
    ['domain', '192.0.2.1'],
    ['domain', `${'a'.repeat(64)}.com`],
    ['domain', 'xn--zz.com'],
    ['url', 'no scheme here'],
    ['email', 'no-at-sign'],
    ['email', '.dot@example.com'],
    ['email', 'a@b'],
    ['sha256', 'abc'],
    ['md5', 'g41d8cd98f00b204e9800998ecf8427e'],
    ['email_messageid', '<a b@c>'],
    ['cisco_mid', 'MID12'],
    ['mac_address', '00:1a:2b:3c:4d'],
    ['file_name', 'dir/file.txt'],
    ['user', 'bad\u0000user'],
    ['user', '   '],
  ])('refuses %s %j', (type, value) => {
    const result = tryNormalizeObservable({ type, value })
    expect(result.ok).toBe(false)
    expect(() => normalizeObservable({ type, value })).toThrow(
      expect.objectContaining({ code: 'CTIM_ERR_OBSERVABLE_INVALID' }),
    )
  })

  it('refuses unknown types with their own code', () => {
    expect(() => normalizeObservable({ type: 'hash', value: 'x' })).toThrow(
      expect.objectContaining({ code: 'CTIM_ERR_OBSERVABLE_TYPE_UNKNOWN', status: 400 }),
    )
  })

  it('de-duplicates keeping the first position', () => {
    expect(
      uniqueObservables([
        { type: 'ip', value: '192.0.2.1' },
        { type: 'domain', value: 'a.com' },
        { type: 'ip', value: '192.0.2.1' },
      ]),
    ).toEqual([
      { type: 'ip', value: '192.0.2.1' },
      { type: 'domain', value: 'a.com' },
    ])
  })
})

describe('hosts', () => {
  it('knows public domains from the public-suffix list', () => {
    expect(isPublicDomain('evil.com')).toBe(true)
    expect(isPublicDomain('x.github.io')).toBe(true)
    expect(isPublicDomain('co.uk')).toBe(false)
    expect(isPublicDomain('report.pdf')).toBe(false)
    expect(isPublicDomain('corp.local')).toBe(false)
    expect(registrableDomainOf('a.b.evil.co.uk')).toBe('evil.co.uk')
  })

  it('canonicalises domains and IPv6', () => {
    expect(canonicalDomain('ÄBC.de')).toEqual({ ok: true, value: 'xn--bc-uia.de' })
    expect(canonicalIPv6('2001:0db8:0000:0000:0000:ff00:0042:8329')).toBe('2001:db8::ff00:42:8329')
    expect(canonicalIPv6('not-ip')).toBeNull()
  })
})
