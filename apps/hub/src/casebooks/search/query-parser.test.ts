import { describe, expect, it } from 'vitest'
import type { CtiaFilter } from '@postern/store'
import { parseCtiaQuery, QuerySyntaxError } from './query-parser.js'

const m = (field: string, value: string, wildcard = false): CtiaFilter => ({
  op: 'match',
  field,
  value,
  wildcard,
})
const t = (value: string, wildcard = false): CtiaFilter => ({ op: 'text', value, wildcard })

describe('parseCtiaQuery', () => {
  it.each<[string, CtiaFilter]>([
    ['', { op: 'all' }],
    ['*', { op: 'all' }],
    ['*:*', { op: 'all' }],
    ['*:invoice', t('invoice')],
    ['phishing', t('phishing')],
    ['"fake invoice"', t('fake invoice')],
    ['title:invoice', m('title', 'invoice')],
    ['title:"fake \\"big\\" invoice"', m('title', 'fake "big" invoice')],
    ['title:inv*', m('title', 'inv*', true)],
    ['title:in?oice', m('title', 'in?oice', true)],
    ['title:inv\\*', m('title', 'inv*', false)],
    [
      'observables.value:https://evil.example/a?b=1',
      m('observables.value', 'https://evil.example/a?b=1', true),
    ],
    [
      'observables.value:"https://evil.example/a?b=1"',
      m('observables.value', 'https://evil.example/a?b=1'),
    ],
    ['title:*', { op: 'exists', field: 'title' }],
    ['a b', { op: 'and', filters: [t('a'), t('b')] }],
    ['a AND b', { op: 'and', filters: [t('a'), t('b')] }],
    ['a && b', { op: 'and', filters: [t('a'), t('b')] }],
    ['a OR b', { op: 'or', filters: [t('a'), t('b')] }],
    ['a || b', { op: 'or', filters: [t('a'), t('b')] }],
    ['a OR b c', { op: 'or', filters: [t('a'), { op: 'and', filters: [t('b'), t('c')] }] }],
    ['(a OR b) c', { op: 'and', filters: [{ op: 'or', filters: [t('a'), t('b')] }, t('c')] }],
    ['NOT a', { op: 'not', filter: t('a') }],
    ['-tlp:red', { op: 'not', filter: m('tlp', 'red') }],
    ['!tlp:red', { op: 'not', filter: m('tlp', 'red') }],
    ['+tlp:red', m('tlp', 'red')],
    ['title:a-b', m('title', 'a-b')],
    ['tlp:(red OR amber)', { op: 'or', filters: [m('tlp', 'red'), m('tlp', 'amber')] }],
    ['tlp:NOT red', { op: 'not', filter: m('tlp', 'red') }],
    ['and', t('and')],
    ['\\AND', t('AND')],
    [
      'timestamp:[2026-01-01T00:00:00Z TO 2026-02-01T00:00:00Z}',
      {
        op: 'range',
        field: 'timestamp',
        gte: '2026-01-01T00:00:00Z',
        lt: '2026-02-01T00:00:00Z',
      },
    ],
    ['priority:{50 TO *]', { op: 'range', field: 'priority', gt: '50' }],
    ['priority:>=90', { op: 'range', field: 'priority', gte: '90' }],
    ['priority:<10', { op: 'range', field: 'priority', lt: '10' }],
    [
      'status:"Open: Investigating" AND severity:High',
      { op: 'and', filters: [m('status', 'Open: Investigating'), m('severity', 'High')] },
    ],
  ])('%j', (query, expected) => {
    expect(parseCtiaQuery(query)).toEqual(expected)
  })

  it.each([
    ['"unterminated', 'Unterminated quoted phrase at position 0'],
    ['(a OR b', 'Missing ")" at position 7'],
    ['a)', 'Unexpected ")" at position 1'],
    ['title:', 'Missing value for field title at position 0'],
    ['title: AND x', 'Missing value for field title at position 0'],
    [':x', 'Missing field name before ":" at position 0'],
    ['title:[a b]', 'A range is written [from TO to] at position 6'],
    ['title:[a TO b', 'Unterminated range at position 6'],
    ['a:(b:c)', 'A field cannot be nested in another field at position 3'],
    ['a OR', 'The query ends too early at position 4'],
    ['priority:>', 'Missing value after > at position 10'],
  ])('rejects %j', (query, message) => {
    expect(() => parseCtiaQuery(query)).toThrow(
      new QuerySyntaxError(
        message.replace(/ at position \d+$/, ''),
        Number(/\d+$/.exec(message)![0]),
      ),
    )
  })

  it('bounds hostile queries', () => {
    expect(() => parseCtiaQuery('('.repeat(40) + 'a' + ')'.repeat(40))).toThrow(/nested too deeply/)
    expect(() =>
      parseCtiaQuery(Array.from({ length: 300 }, (_, i) => `t${i}`).join(' OR ')),
    ).toThrow(/more than 256 clauses/)
    expect(() => parseCtiaQuery('a'.repeat(5000))).toThrow(/longer than 4096/)
  })
})
