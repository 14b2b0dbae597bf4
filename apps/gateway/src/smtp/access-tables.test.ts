import { describe, expect, it } from 'vitest'
import { ManualClock } from '@postern/core'
import type { HatRule } from '../config.js'
import { HostAccessTable, RecipientAccessTable } from './access-tables.js'
import { RecipientRate } from './rate-limits.js'
import { engineEnhancedCode, hasEnhancedCode } from './replies.js'

const rule = (
  senderGroup: string,
  match: string[],
  policy: HatRule['policy'] = 'ACCEPTED',
): HatRule => ({ senderGroup, match, policy, pregreet: 0, tls: 'preferred' }) as HatRule

describe('HostAccessTable', () => {
  const table = new HostAccessTable([
    rule('RELAY', ['10.0.0.0/8', '2001:db8::/32'], 'RELAYED'),
    rule('PARTNER', ['.partner.example', 'mx.exact.example']),
    rule('DYN', ['*.dyn.example.net', 'pool-*.isp.example']),
    rule('ALL', ['*']),
  ])

  it.each([
    ['10.1.2.3', null, 'RELAY'],
    ['::ffff:10.1.2.3', null, 'RELAY'],
    ['2001:db8::5', null, 'RELAY'],
    ['192.0.2.1', 'mx1.partner.example', 'PARTNER'],
    ['192.0.2.1', 'partner.example', 'ALL'],
    ['192.0.2.1', 'mx.exact.example', 'PARTNER'],
    ['192.0.2.1', 'a.b.dyn.example.net', 'DYN'],
    ['192.0.2.1', 'pool-12.isp.example', 'DYN'],
    ['192.0.2.1', 'pool-12.isp.example.evil', 'ALL'],
    ['192.0.2.1', null, 'ALL'],
  ])('%s named %s is in %s', async (ip, name, group) => {
    expect((await table.match(ip, async () => name))?.rule.senderGroup).toBe(group)
  })

  it('looks the name up only when a rule needs it, and once', async () => {
    let lookups = 0
    const lookup = async () => {
      lookups++
      return null
    }
    await table.match('10.0.0.1', lookup)
    expect(lookups).toBe(0)
    await table.match('192.0.2.9', lookup)
    expect(lookups).toBe(1)
  })

  it('matches nobody when no rule covers the client', async () => {
    expect(
      await new HostAccessTable([rule('ONE', ['192.0.2.1'])]).match('192.0.2.2', async () => null),
    ).toBeUndefined()
  })
})

describe('RecipientAccessTable', () => {
  const rat = new RecipientAccessTable([
    { recipient: 'noreply@corp.example', action: 'REJECT' },
    { recipient: 'corp.example', action: 'ACCEPT' },
    { recipient: '.corp.example', action: 'ACCEPT' },
    { recipient: '*', action: 'REJECT' },
  ])
  it.each([
    ['Bob@CORP.example', 'accept'],
    ['noreply@corp.example', 'reject'],
    ['x@eu.corp.example', 'accept'],
    ['x@corp.example.evil', 'reject'],
    ['x@evilcorp.example', 'reject'],
    ['postmaster', 'accept'],
  ])('%s → %s', (address, verdict) => {
    expect(rat.check(address)).toBe(verdict)
  })
  it('leaves what it does not list to the relay decision', () => {
    expect(
      new RecipientAccessTable([{ recipient: 'corp.example', action: 'ACCEPT' }]).check(
        'x@other.example',
      ),
    ).toBe('unlisted')
  })
})

describe('RecipientRate', () => {
  it('allows the rate per window, slides, and forgets idle keys', () => {
    const clock = new ManualClock(0)
    const rate = new RecipientRate(clock)
    for (let i = 0; i < 3; i++) expect(rate.take('ip', 3, 1000)).toBe(true)
    expect(rate.take('ip', 3, 1000)).toBe(false)
    expect(rate.take('other', 3, 1000)).toBe(true)
    clock.advance(1500)
    // Half of the previous window still counts: 3 × 0.5 = 1.5 used.
    expect(rate.take('ip', 3, 1000)).toBe(true)
    expect(rate.take('ip', 3, 1000)).toBe(false)
    clock.advance(5000)
    expect(rate.take('ip', 3, 1000)).toBe(true)
  })
})

describe('enhanced status codes of engine replies', () => {
  it.each([
    [250, 'MAIL_FROM_OK', '2.1.0'],
    [250, 'RCPT_TO_OK', '2.1.5'],
    [503, undefined, '5.5.1'],
    [501, undefined, '5.5.4'],
    [538, undefined, '5.7.11'],
    [599, undefined, '5.0.0'],
  ])('%i %s → %s', (code, context, enhanced) => {
    expect(engineEnhancedCode(code, context)).toBe(enhanced)
  })
  it('recognises replies that already carry a code', () => {
    expect(hasEnhancedCode('5.7.1 Relaying denied')).toBe(true)
    expect(hasEnhancedCode('Error: bad sequence')).toBe(false)
  })
})
