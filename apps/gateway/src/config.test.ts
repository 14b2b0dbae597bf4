import { describe, expect, it } from 'vitest'
import { validateConfig } from '@postern/core'
import { classifyMatch, gatewayConfigSchema, parseDuration } from './config.js'

function parse(raw: unknown) {
  return validateConfig(gatewayConfigSchema, raw)
}

function issues(raw: unknown): string {
  try {
    parse(raw)
  } catch (err) {
    return (err as Error).message
  }
  throw new Error('expected the configuration to be refused')
}

const listener = (extra: Record<string, unknown> = {}) => ({
  name: 'inbound',
  smtp: '127.0.0.1:0',
  ...extra,
})

describe('gateway configuration', () => {
  it('fills defaults, parsing durations and sizes', () => {
    const config = parse({ listeners: [listener()] })
    expect(config.database).toBe('sqlite')
    expect(config.queue.lifetime).toBe(5 * 86_400_000)
    expect(config.queue.retry).toEqual({ initialDelay: 60_000, maxDelay: 3_600_000 })
    expect(config.listeners[0]?.limits.maxMessageSize).toBe(25 * 1024 * 1024)
    expect(config.listeners[0]?.hat).toEqual([
      { senderGroup: 'ALL', match: ['*'], policy: 'ACCEPTED', pregreet: 0, tls: 'preferred' },
    ])
    expect(config.listeners[0]?.lineEndings).toBe('reject')
    expect(config.tracking.flushInterval).toBe(250)
  })

  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5m', 90_000],
    ['4h', 14_400_000],
    ['5d', 432_000_000],
    [1234, 1234],
  ])('parses the duration %j', (input, ms) => {
    expect(parseDuration(input)).toBe(ms)
  })

  it.each([
    ['192.0.2.1', 'ip'],
    ['2001:db8::1', 'ip'],
    ['10.0.0.0/8', 'cidr'],
    ['2001:db8::/32', 'cidr'],
    ['mx.example.com', 'rdns'],
    ['.example.com', 'rdns'],
    ['*.dyn.example.net', 'rdns'],
    ['mail-*.example.net', 'rdns'],
    ['*', 'any'],
    ['10.0.0.0/33', 'invalid'],
    ['bad host', 'invalid'],
    ['a..b', 'invalid'],
  ])('classifies the HAT entry %s as %s', (entry, kind) => {
    expect(classifyMatch(entry)).toBe(kind)
  })

  // No configuration of the access tables makes an open relay by accident (docs/operations.md).
  it.each([
    ['a RELAYED group matching everyone', { match: ['*'], policy: 'RELAYED' }, 'open relay'],
    ['a RELAYED group by reverse DNS', { match: ['.example.com'], policy: 'RELAYED' }, 'PTR'],
    ['a RELAYED /0', { match: ['0.0.0.0/0'], policy: 'RELAYED' }, 'too broad'],
    ['a RELAYED IPv6 /8', { match: ['2000::/8'], policy: 'RELAYED' }, 'too broad'],
    ['a THROTTLED group without rate', { match: ['*'], policy: 'THROTTLED' }, 'needs a rate'],
  ])('refuses %s', (_name, rule, message) => {
    expect(issues({ listeners: [listener({ hat: [{ senderGroup: 'G', ...rule }] })] })).toContain(
      message,
    )
  })

  it.each([
    ['accepting *', { recipient: '*', action: 'ACCEPT' }, 'open relay'],
    ['accepting a whole TLD', { recipient: '.com', action: 'ACCEPT' }, 'top-level domain'],
    ['garbage', { recipient: 'a b', action: 'ACCEPT' }, 'not a domain'],
  ])('refuses a RAT %s', (_name, rule, message) => {
    expect(issues({ listeners: [listener({ rat: [rule] })] })).toContain(message)
  })

  it('accepts a sensible inbound + outbound setup', () => {
    const config = parse({
      listeners: [
        listener({
          hat: [
            { senderGroup: 'RELAYLIST', match: ['10.0.0.0/8', '2001:db8::/48'], policy: 'RELAYED' },
            { senderGroup: 'BLOCKED', match: ['*.spam.example'], policy: 'REJECTED' },
            {
              senderGroup: 'SUSPECT',
              match: ['.dyn.example.net'],
              policy: 'THROTTLED',
              rate: { recipients: 20, per: '1h' },
              pregreet: '2s',
            },
            { senderGroup: 'UNKNOWN', match: ['*'], policy: 'ACCEPTED' },
          ],
          rat: [
            { recipient: 'corp.example', action: 'ACCEPT' },
            { recipient: 'noreply@corp.example', action: 'REJECT' },
            { recipient: '*', action: 'REJECT' },
          ],
        }),
      ],
      smtpRoutes: [
        { domain: 'corp.example', to: ['10.0.0.5:25', 'mail2.corp.example'] },
        { domain: '*', to: ['mx'] },
      ],
    })
    expect(config.listeners[0]?.hat[2]?.pregreet).toBe(2_000)
    expect(config.listeners[0]?.hat[2]?.rate).toEqual({ recipients: 20, per: 3_600_000 })
  })

  it.each([
    ['unknown key', { listeners: [listener({ hats: [] })] }, 'hats'],
    ['duplicate listener names', { listeners: [listener(), listener()] }, 'already named'],
    ['a bad duration', { queue: { lifetime: 'forever' } }, 'not a duration'],
    ['a relative maildir', { smtpRoutes: [{ domain: '*', to: ['maildir:mail'] }] }, 'absolute'],
    ['a bad listen address', { http: 'localhost' }, 'host:port'],
    [
      'AUTH without users',
      { listeners: [listener({ auth: { enabled: true } })] },
      'no user is listed',
    ],
  ])('reports %s', (_name, raw, message) => {
    expect(issues(raw)).toContain(message)
  })
})
