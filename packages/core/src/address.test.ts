import { describe, expect, it } from 'vitest'
import { formatHostPort, parseHostPort } from './address.js'

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:25', { host: '127.0.0.1', port: 25 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }],
    [':2525', { host: '0.0.0.0', port: 2525 }],
    ['[::1]:587', { host: '::1', port: 587 }],
    ['mx.example.com:25', { host: 'mx.example.com', port: 25 }],
  ])('parses %s', (input, expected) => {
    expect(parseHostPort(input)).toEqual(expected)
  })

  it.each(['25', 'host', 'host:99999', '[nothost]:25', '::1:25', 'a:b'])('rejects %s', (input) => {
    expect(() => parseHostPort(input)).toThrow(
      expect.objectContaining({ code: 'CORE_ERR_ADDRESS_INVALID' }),
    )
  })

  it('brackets IPv6 when formatting', () => {
    expect(formatHostPort({ host: '::1', port: 25 })).toBe('[::1]:25')
  })
})
