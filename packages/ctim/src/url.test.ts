import { describe, expect, it } from 'vitest'
import { normalizeUrl, trimUrlProse, tryNormalizeUrl } from './url.js'

describe('normalizeUrl', () => {
  it.each([
    ['HTTP://Example.COM', 'http://example.com/'],
    ['https://example.com:443/a', 'https://example.com/a'],
    ['http://example.com:80/a', 'http://example.com/a'],
    ['http://example.com:8080/a', 'http://example.com:8080/a'],
    ['https://bücher.de/ä', 'https://xn--bcher-kva.de/%C3%A4'],
    ['https://example.com/%7euser', 'https://example.com/~user'],
    ['https://example.com/a%2fb', 'https://example.com/a%2Fb'],
    ['https://example.com/%41%42', 'https://example.com/AB'],
    ['https://example.com/?q=%7e%3d', 'https://example.com/?q=~%3D'],
    ['https://example.com/a/./b/../c', 'https://example.com/a/c'],
    ['https://example.com/path?', 'https://example.com/path'],
    ['https://example.com/path#', 'https://example.com/path'],
    ['https://example.com/p#Frag', 'https://example.com/p#Frag'],
    ['http://0x7f.1/', 'http://127.0.0.1/'],
    ['http://[2001:DB8::1]:80/', 'http://[2001:db8::1]/'],
    ['hxxps://evil[.]com/x', 'https://evil.com/x'],
    ['<https://example.com/angle>', 'https://example.com/angle'],
    ['http://user:pw@Example.com/', 'http://user:pw@example.com/'],
    ['http://evil.com\\@good.com/', 'http://evil.com/@good.com/'],
    ['https://example.com/a b', null],
    ['https://-bad-.com/', null],
    ['https://', null],
    ['example.com/x', null],
    ['javascript:alert(1)', 'javascript:alert(1)'],
  ])('%s → %s', (input, expected) => {
    const result = tryNormalizeUrl(input)
    expect(result.ok ? result.value.url : null).toBe(expected)
  })

  it('reads a scheme-less URL as http when asked', () => {
    expect(normalizeUrl('www.example.com/login', { assumeHttp: true })).toBe(
      'http://www.example.com/login',
    )
  })

  it('returns the host', () => {
    const result = tryNormalizeUrl('https://Login.Example.com/a')
    expect(result.ok && result.value.host).toBe('login.example.com')
  })

  it('throws a coded error for a bad URL', () => {
    expect(() => normalizeUrl('not a url')).toThrow(
      expect.objectContaining({ code: 'CTIM_ERR_OBSERVABLE_INVALID' }),
    )
  })

  it('is idempotent', () => {
    for (const url of ['https://EXAMPLE.com/%7e/a%2fb?x=%41#y', 'http://bücher.de/ä?ö']) {
      const once = normalizeUrl(url)
      expect(normalizeUrl(once)).toBe(once)
    }
  })

  it('refuses very long URLs', () => {
    expect(tryNormalizeUrl(`https://example.com/${'a'.repeat(9000)}`).ok).toBe(false)
  })
})

describe('trimUrlProse', () => {
  it.each([
    ['https://x.com/a.', 'https://x.com/a'],
    ['https://x.com/a,', 'https://x.com/a'],
    ['https://x.com/a).', 'https://x.com/a'],
    ['https://x.com/a_(b)', 'https://x.com/a_(b)'],
    ['https://x.com/a_(b))', 'https://x.com/a_(b)'],
    ['https://x.com/a]', 'https://x.com/a'],
    ['https://x.com/a?', 'https://x.com/a'],
    ['https://x.com/a"', 'https://x.com/a'],
    ['https://x.com/a&gt;', 'https://x.com/a'],
    ['https://x.com/a。', 'https://x.com/a'],
  ])('%s → %s', (input, expected) => {
    expect(trimUrlProse(input)).toBe(expected)
  })
})
