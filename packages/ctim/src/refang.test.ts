import { describe, expect, it } from 'vitest'
import { refang } from './refang.js'

describe('refang', () => {
  it.each([
    ['hxxp://evil.com', 'http://evil.com'],
    ['hxxps://evil.com', 'https://evil.com'],
    ['HXXPS://evil.com', 'https://evil.com'],
    ['hXXp://evil.com', 'http://evil.com'],
    ['fxp://files.evil.com', 'ftp://files.evil.com'],
    ['hxxps[:]//evil.com', 'https://evil.com'],
    ['hxxps[://]evil.com', 'https://evil.com'],
    ['https[://]evil.com', 'https://evil.com'],
    ['http[:]//evil.com', 'http://evil.com'],
    ['evil[.]com', 'evil.com'],
    ['evil(.)com', 'evil.com'],
    ['evil{.}com', 'evil.com'],
    ['evil[dot]com', 'evil.com'],
    ['evil(DOT)com', 'evil.com'],
    ['evil [.] com', 'evil.com'],
    ['evil[ . ]com', 'evil.com'],
    ['1[.]2[.]3[.]4', '1.2.3.4'],
    ['a(at)b.com', 'a@b.com'],
    ['a[at]b.com', 'a@b.com'],
    ['a[@]b.com', 'a@b.com'],
    ['a{at}b.com', 'a@b.com'],
    ['ceo [at] corp[.]example.com', 'ceo@corp.example.com'],
    ['evil\\.com', 'evil.com'],
    ['evil[.]com[:]8080', 'evil.com:8080'],
    ['e\u200bvil.com', 'evil.com'],
    ['evil。com', 'evil.com'],
    ['evil．com', 'evil.com'],
  ])('%s → %s', (input, expected) => {
    expect(refang(input)).toBe(expected)
  })

  it.each(['Meet [at] noon', 'Press the (dot) key.', 'http://already.live/path', 'The (at) sign'])(
    'leaves prose alone: %s',
    (text) => {
      expect(refang(text)).toBe(text)
    },
  )

  it('is idempotent', () => {
    const once = refang('hxxps[:]//login[.]evil[.]com/a(at)b')
    expect(refang(once)).toBe(once)
  })
})
