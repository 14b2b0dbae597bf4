import { describe, expect, it } from 'vitest'
import { escapeLike, parseTextFilterArg, parseTrackingSearch } from './query.js'

describe('tracking search grammar', () => {
  it('applies defaults and normalises values', () => {
    const q = parseTrackingSearch({
      since: '2026-01-01T00:00:00Z',
      envelopeSenders: [{ operator: 'contains', value: ' Evil.test ' }, { value: 'a@b.c' }],
      attachmentHashes: ['ABCDEF0123456789ABCDEF0123456789'],
      domains: ['Example.ORG'],
    })
    expect(q).toMatchObject({
      since: Date.UTC(2026, 0, 1),
      envelopeSenders: [
        { operator: 'contains', value: 'Evil.test' },
        { operator: 'is', value: 'a@b.c' },
      ],
      attachmentHashes: ['abcdef0123456789abcdef0123456789'],
      domains: ['example.org'],
      sort: { field: 'received_at', order: 'desc' },
      limit: 50,
      offset: 0,
    })
  })

  it.each([
    [
      'an unknown operator',
      { subjects: [{ operator: 'like', value: 'x' }] },
      'subjects.0.operator',
    ],
    ['an unknown field', { sender: 'x' }, '(root)'],
    ['a bad IP', { senderIp: '10.0.0.256' }, 'senderIp'],
    ['a bad hash', { attachmentHashes: ['xyz'] }, 'attachmentHashes.0'],
    ['an inverted range', { since: 10, until: 5 }, 'until'],
    ['a huge page', { limit: 5000 }, 'limit'],
    [
      'too many senders',
      { envelopeSenders: Array.from({ length: 51 }, () => ({ value: 'a' })) },
      'envelopeSenders',
    ],
  ])('rejects %s, naming the field', (_name, input, field) => {
    expect(() => parseTrackingSearch(input)).toThrow(
      expect.objectContaining({
        code: 'GW_ERR_SEARCH_QUERY_INVALID',
        message: expect.stringContaining(field),
      }),
    )
  })

  it.each([
    ['contains:evil.test', { operator: 'contains', value: 'evil.test' }],
    ['begins_with:ceo', { operator: 'begins_with', value: 'ceo' }],
    ['is:a@b.c', { operator: 'is', value: 'a@b.c' }],
    ['plain@value', { operator: 'is', value: 'plain@value' }],
    ['contains:a:b', { operator: 'contains', value: 'a:b' }],
  ])('reads the CLI form %s', (arg, expected) => {
    expect(parseTextFilterArg(arg)).toEqual(expected)
  })

  it('escapes LIKE wildcards', () => {
    expect(escapeLike('50%_off\\')).toBe('50\\%\\_off\\\\')
  })
})
