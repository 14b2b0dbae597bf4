import { describe, expect, it } from 'vitest'
import { createLogger, redactSecrets } from './logger.js'

/** The JSON lines a logger writes, parsed. */
function capture(): { lines: Record<string, unknown>[]; write(line: string): void } {
  const lines: Record<string, unknown>[] = []
  return { lines, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }
}

describe('log redaction', () => {
  const cases: {
    name: string
    logged: Record<string, unknown>
    expected: Record<string, unknown>
  }[] = [
    {
      name: 'a secret at the top',
      logged: { event: 'X', password: 'hunter2', user: 'alice' },
      expected: { event: 'X', password: '[redacted]', user: 'alice' },
    },
    {
      name: 'every secret key at the top',
      logged: {
        secret: 's',
        token: 't',
        clientSecret: 'c',
        client_secret: 'c',
        accessToken: 'a',
        access_token: 'a',
        credential: 'k',
        authorization: 'Basic eA==',
      },
      expected: {
        secret: '[redacted]',
        token: '[redacted]',
        clientSecret: '[redacted]',
        client_secret: '[redacted]',
        accessToken: '[redacted]',
        access_token: '[redacted]',
        credential: '[redacted]',
        authorization: '[redacted]',
      },
    },
    {
      name: 'a secret one level down',
      logged: { profile: { host: 'imap.example', password: 'p', nested: { token: 'deep' } } },
      expected: {
        profile: { host: 'imap.example', password: '[redacted]', nested: { token: 'deep' } },
      },
    },
    {
      name: 'headers and request headers',
      logged: {
        headers: { cookie: 'sid=1', accept: '*/*' },
        req: { method: 'GET', headers: { authorization: 'Bearer x', cookie: 'sid=2', host: 'h' } },
      },
      expected: {
        headers: { cookie: '[redacted]', accept: '*/*' },
        req: {
          method: 'GET',
          headers: { authorization: '[redacted]', cookie: '[redacted]', host: 'h' },
        },
      },
    },
    {
      name: 'nothing secret',
      logged: { event: 'SMTP_MESSAGE_ACCEPTED', mid: 7, rcpts: ['a@b.example'], size: 10 },
      expected: { event: 'SMTP_MESSAGE_ACCEPTED', mid: 7, rcpts: ['a@b.example'], size: 10 },
    },
  ]

  it.each(cases)('censors $name in the written line', ({ logged, expected }) => {
    const out = capture()
    createLogger({ destination: out }).info(logged, 'message')
    expect(out.lines[0]).toMatchObject({ ...expected, msg: 'message' })
  })

  it('censors the bindings of a child logger', () => {
    const out = capture()
    createLogger({ destination: out }).child({ token: 't', mid: 1 }).info('x')
    expect(out.lines[0]).toMatchObject({ token: '[redacted]', mid: 1 })
  })

  it('leaves the caller’s object untouched and copies nothing when there is no secret', () => {
    const logged = { profile: { password: 'p' }, user: 'alice' }
    const redacted = redactSecrets(logged)
    expect(logged.profile.password).toBe('p')
    expect(redacted).toEqual({ profile: { password: '[redacted]' }, user: 'alice' })
    const plain = { event: 'X', nested: { a: 1 } }
    expect(redactSecrets(plain)).toBe(plain)
  })

  it('censors the headers of a request object whose headers come from a getter', () => {
    class Request {
      constructor(readonly raw: { url: string; headers: Record<string, string> }) {}
      get headers(): Record<string, string> {
        return this.raw.headers
      }
      get url(): string {
        return this.raw.url
      }
    }
    const req = new Request({ url: '/x', headers: { authorization: 'Bearer t', host: 'h' } })
    const out = redactSecrets({ req }) as { req: Request }
    expect(out.req).toBeInstanceOf(Request)
    expect(out.req.url).toBe('/x')
    expect(out.req.headers).toEqual({ authorization: '[redacted]', host: 'h' })
    expect(req.headers.authorization).toBe('Bearer t')
  })

  it('keeps an error an error (its message and stack are not enumerable)', () => {
    const out = capture()
    const err = Object.assign(new Error('login failed'), { password: 'p' })
    createLogger({ destination: out }).error({ err }, 'failed')
    const logged = out.lines[0]?.err as Record<string, unknown>
    expect(logged).toMatchObject({ message: 'login failed', password: '[redacted]' })
    expect(String(logged.stack)).toContain('login failed')
  })
})
