import type { promises as dns } from 'node:dns'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '@postern/core'
import { expandIpv6, isValidHostname, ReverseDns } from './rdns.js'

function resolverWith(
  ptr: Record<string, string>,
  a: Record<string, string[]>,
  calls: string[] = [],
) {
  return {
    reverse: async (ip: string) => {
      calls.push(`ptr ${ip}`)
      if (ip === '192.0.2.99') return new Promise<string[]>(() => undefined) // never answers
      const name = ptr[ip]
      if (!name) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })
      return [name]
    },
    resolve4: async (name: string) => a[name] ?? [],
    resolve6: async (name: string) => a[name] ?? [],
  } as unknown as dns.Resolver
}

describe('ReverseDns', () => {
  it.each([
    ['192.0.2.1', 'mx.good.example'],
    ['192.0.2.2', null], // PTR claims a name that does not resolve back
    ['192.0.2.3', null], // PTR with CRLF: not a host name
    ['192.0.2.4', null], // no PTR
    ['2001:db8::1', 'v6.good.example'],
  ])('%s → %s (forward-confirmed)', async (ip, expected) => {
    const rdns = new ReverseDns({
      timeoutMs: 1000,
      cacheTtlMs: 1000,
      cacheSize: 10,
      resolver: resolverWith(
        {
          '192.0.2.1': 'MX.Good.Example.',
          '192.0.2.2': 'mail.google.com',
          '192.0.2.3': 'evil\r\nX-Injected: 1',
          '2001:db8::1': 'v6.good.example',
        },
        {
          'mx.good.example': ['192.0.2.1'],
          'mail.google.com': ['198.51.100.1'],
          'v6.good.example': ['2001:0db8:0:0:0:0:0:1'],
        },
      ),
    })
    expect(await rdns.lookup(ip)).toBe(expected)
  })

  it('bounds a lookup by its timeout and caches answers', async () => {
    const calls: string[] = []
    const clock = new ManualClock(0)
    const rdns = new ReverseDns({
      timeoutMs: 50,
      cacheTtlMs: 1000,
      cacheSize: 10,
      clock,
      resolver: resolverWith({ '192.0.2.1': 'a.example' }, { 'a.example': ['192.0.2.1'] }, calls),
    })
    expect(await rdns.lookup('192.0.2.99')).toBeNull()
    await Promise.all([rdns.lookup('192.0.2.1'), rdns.lookup('192.0.2.1')])
    expect(rdns.peek('192.0.2.1')).toBe('a.example')
    expect(calls.filter((c) => c === 'ptr 192.0.2.1')).toHaveLength(1)
    clock.advance(2000)
    expect(rdns.peek('192.0.2.1')).toBeUndefined()
  })

  it('validates host names and expands IPv6', () => {
    expect(isValidHostname('a-b.example')).toBe(true)
    expect(isValidHostname('a b.example')).toBe(false)
    expect(isValidHostname('x'.repeat(64) + '.example')).toBe(false)
    expect(expandIpv6('2001:db8::1')).toBe('2001:0db8:0000:0000:0000:0000:0000:0001')
    expect(expandIpv6('::ffff:192.0.2.1')).toBe('0000:0000:0000:0000:0000:ffff:c000:0201')
  })
})
