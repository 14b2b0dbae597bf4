import { describe, expect, it } from 'vitest'
import { findUrlsInText, normaliseUrl, registrableDomain } from './urls.js'

describe('registrableDomain', () => {
  it.each([
    ['login.evil.example.co.uk', 'example.co.uk'],
    ['login.evil.test', 'evil.test'],
    ['a.b.github.io', 'b.github.io'],
    ['evil.example', 'evil.example'],
    ['192.0.2.7', '192.0.2.7'],
    ['2001:db8::1', '2001:db8::1'],
    ['localhost', 'localhost'],
  ])('%s → %s', (host, domain) => {
    expect(registrableDomain(host)).toBe(domain)
  })
})

describe('normaliseUrl', () => {
  it.each([
    ['HXXPS://Login.Example.COM:443/a/../%7euser?', 'https://login.example.com/~user'],
    ['https://paypal.example@evil.example/x', 'https://paypal.example@evil.example/x'],
    ['ftp://files.example/x', 'ftp://files.example/x'],
  ])('%s → %s', (raw, url) => {
    expect(normaliseUrl(raw)?.url).toBe(url)
  })

  it.each([
    'javascript:alert(1)',
    'data:text/html,x',
    'mailto:a@b.example',
    '/relative',
    '',
    'x'.repeat(5000),
  ])('refuses %j', (raw) => {
    expect(normaliseUrl(raw)).toBeNull()
  })

  it('resolves relative links against a base and keeps the host that really serves them', () => {
    expect(normaliseUrl('img/a.png', 'https://cdn.example/assets/')).toEqual({
      url: 'https://cdn.example/assets/img/a.png',
      host: 'cdn.example',
      domain: 'cdn.example',
    })
    expect(normaliseUrl('https://paypal.example@evil.example/x')?.host).toBe('evil.example')
  })
})

describe('findUrlsInText', () => {
  it.each([
    ['no links in plain prose. Nothing here', []],
    [
      'defanged hxxps://evil[.]example/x and evil(.)com',
      ['https://evil.example/x', 'http://evil.com'],
    ],
    [
      'www.example.com/path, then bit.ly/abc.',
      ['http://www.example.com/path', 'http://bit.ly/abc'],
    ],
    ['mail me at a@b.example', []],
  ])('%j', (text, urls) => {
    expect(findUrlsInText(text)).toEqual(urls)
  })
})
