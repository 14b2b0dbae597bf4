import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { buildZip } from '../../../../../test/support/zip.js'
import { analyseMessage } from './analyse-message.js'
import type { AnalysisLimits } from './types.js'

const LIMITS: AnalysisLimits = {
  maxDepth: 8,
  maxParts: 50,
  maxHeaderBytes: 16 * 1024,
  maxDecodedBytes: 1024 * 1024,
  maxParseMs: 10_000,
  maxTextBytes: 256 * 1024,
  maxUrls: 100,
  maxArchiveEntries: 100,
  maxArchiveEntryBytes: 512 * 1024,
}

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8')
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')

const analyse = (raw: Buffer, limits: Partial<AnalysisLimits> = {}) =>
  analyseMessage(raw, { limits: { ...LIMITS, ...limits }, includeText: true })

describe('analyseMessage', () => {
  it('summarises headers, addresses, Received hops and text URLs', async () => {
    const result = await analyse(
      crlf([
        'Received: from mx.example.org (mx.example.org [192.0.2.10])',
        '\tby gw.example.net with ESMTP id 4711; Tue, 2 Jan 2024 10:00:00 +0000',
        'From: "Alice =?utf-8?q?M=C3=BCller?=" <Alice@Example.ORG>',
        'To: bob@example.net, "Carol" <carol@EXAMPLE.net>',
        'Reply-To: reply@other.example',
        `Subject: =?utf-8?b?${Buffer.from('Hello 🎊').toString('base64')}?=`,
        'Message-ID: <abc.123@example.org>',
        'Date: Tue, 2 Jan 2024 10:00:00 +0000',
        '',
        'Read hxxps://evil[.]example/login?id=1#frag and www.example.com/path.',
        '',
      ]),
    )
    expect(result.malformed).toBeNull()
    expect(result.headers.from).toEqual([{ name: 'Alice Müller', address: 'Alice@example.org' }])
    expect(result.headers.to.map((a) => a.address)).toEqual([
      'bob@example.net',
      'carol@example.net',
    ])
    expect(result.headers.replyTo[0]?.address).toBe('reply@other.example')
    expect(result.headers.subject).toBe('Hello 🎊')
    expect(result.headers.messageId).toBe('abc.123@example.org')
    expect(result.headers.date).toBe('2024-01-02T10:00:00.000Z')
    expect(result.headers.received).toEqual([
      expect.objectContaining({ from: 'mx.example.org', ip: '192.0.2.10', by: 'gw.example.net' }),
    ])
    expect(result.urls.map((u) => [u.url, u.host, u.domain])).toEqual([
      ['https://evil.example/login?id=1#frag', 'evil.example', 'evil.example'],
      ['http://www.example.com/path', 'www.example.com', 'example.com'],
    ])
    expect(result.text).toContain('Read hxxps://')
  })

  it('reads HTML links, sources, forms and meta refresh; resolves <base>', async () => {
    const html = [
      '<html><head><base href="https://cdn.example.com/assets/">',
      '<meta http-equiv="refresh" content="0; url=https://redirect.example/next">',
      '<style>.x{background:url(https://ignored.example/)}</style></head><body>',
      '<a href="https://login.bank.example.co.uk/verify">Verify</a>',
      '<img src="pixel.gif">',
      '<form action="https://collect.example/post"><input name="email"><input type="password" name="p"></form>',
      'Visit bit.ly/abc123 now',
      '</body></html>',
    ].join('\r\n')
    const result = await analyse(
      crlf([
        'From: a@example.org',
        'Content-Type: text/html; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        html.replace(/=/g, '=3D'),
      ]),
    )
    const byUrl = Object.fromEntries(result.urls.map((u) => [u.url, u]))
    expect(byUrl['https://login.bank.example.co.uk/verify']).toMatchObject({
      domain: 'example.co.uk',
      sources: ['html-href'],
    })
    expect(byUrl['https://cdn.example.com/assets/pixel.gif']?.sources).toEqual(['html-src'])
    expect(byUrl['https://collect.example/post']?.sources).toEqual(['html-form'])
    expect(byUrl['https://redirect.example/next']?.sources).toEqual(['html-meta'])
    expect(byUrl['http://bit.ly/abc123']?.sources).toEqual(['html-text'])
    expect(byUrl['https://ignored.example/']).toBeUndefined()
    expect(result.forms).toEqual([
      {
        part: '0',
        action: 'https://collect.example/post',
        hasPassword: true,
        fields: ['email', 'p'],
      },
    ])
  })

  it('hashes attachments, sniffs their real type and lists zip entries', async () => {
    const exe = Buffer.concat([
      Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'),
      Buffer.alloc(200, 1),
    ])
    const zip = buildZip([{ name: 'docs/invoice.pdf.exe', data: exe }])
    const result = await analyse(
      crlf([
        'From: a@example.org',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain',
        '',
        'see attached',
        '--b1',
        'Content-Type: application/pdf; name="invoice.pdf"',
        'Content-Disposition: attachment; filename="invoice.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        exe.toString('base64'),
        '--b1',
        'Content-Type: application/octet-stream',
        'Content-Disposition: attachment; filename="archive.zip"',
        'Content-Transfer-Encoding: base64',
        '',
        zip.toString('base64'),
        '--b1--',
        '',
      ]),
    )
    expect(result.malformed).toBeNull()
    expect(result.attachments).toHaveLength(2)
    expect(result.attachments[0]).toMatchObject({
      part: '2',
      filename: 'invoice.pdf',
      declaredType: 'application/pdf',
      sniffedType: 'application/x-msdownload',
      extension: 'pdf',
      size: exe.length,
      sha256: sha256(exe),
      md5: createHash('md5').update(exe).digest('hex'),
    })
    expect(result.attachments[1]).toMatchObject({
      filename: 'archive.zip',
      sniffedType: 'application/zip',
      sha256: sha256(zip),
      entries: [
        expect.objectContaining({
          name: 'docs/invoice.pdf.exe',
          size: exe.length,
          sha256: sha256(exe),
          sniffedType: 'application/x-msdownload',
          encrypted: false,
        }),
      ],
    })
    expect(result.text).toBe('see attached')
  })

  it('reads attached messages one level deeper, whatever their encoding', async () => {
    const inner = crlf([
      'From: inner@example.org',
      'Subject: inner',
      '',
      'go to https://inner.example/x',
    ])
    const result = await analyse(
      crlf([
        'From: outer@example.org',
        'Content-Type: multipart/mixed; boundary=outer',
        '',
        '--outer',
        'Content-Type: message/rfc822; name="fwd.eml"',
        'Content-Transfer-Encoding: base64',
        '',
        inner.toString('base64'),
        '--outer--',
      ]),
    )
    expect(result.urls.map((u) => u.url)).toEqual(['https://inner.example/x'])
    expect(result.parts.map((p) => [p.path, p.contentType, p.depth])).toEqual([
      ['0', 'multipart/mixed', 0],
      ['1', 'message/rfc822', 1],
      ['1.0', 'text/plain', 2],
    ])
    expect(result.attachments.map((a) => a.filename)).toEqual(['fwd.eml'])
  })

  it.each([
    ['depth', { maxDepth: 3 }, nested(6)],
    ['parts', { maxParts: 5 }, manyParts(10)],
    ['header-size', { maxHeaderBytes: 1024 }, crlf([`X-Big: ${'a'.repeat(4000)}`, '', 'x'])],
    ['decoded-size', { maxDecodedBytes: 1000 }, crlf(['Subject: s', '', 'y'.repeat(5000)])],
  ])(
    'a message over the %s cap is malformed, with its header kept',
    async (reason, limits, raw) => {
      const result = await analyse(raw, limits)
      expect(result.malformed?.reason).toBe(reason)
      expect(result.malformed?.detail).toMatch(/pipeline\.limits\./)
    },
  )

  it.each([
    [
      'missing-boundary',
      crlf(['From: a@x.org', 'Content-Type: multipart/mixed', '', 'hidden https://h.example/']),
    ],
    [
      'empty-multipart',
      crlf([
        'From: a@x.org',
        'Content-Type: multipart/mixed; boundary=zz',
        '',
        'text https://h.example/',
        '--yy--',
      ]),
    ],
    ['nul-in-header', crlf(['From: a@x.org', 'Subject: a\0b', '', 'x'])],
    [
      'missing-header-separator',
      crlf(['From: a@x.org', 'this line is body text https://h.example/']),
    ],
  ])('%s is a structural defect: malformed, content still scanned', async (code, raw) => {
    const result = await analyse(raw)
    expect(result.malformed).toMatchObject({ reason: 'structure' })
    expect(result.defects.map((d) => d.code)).toContain(code)
    if (raw.includes('https://h.example/')) {
      expect(result.urls.map((u) => u.url)).toEqual(['https://h.example/'])
    }
  })

  it('reads a second From header as a structural defect', async () => {
    const result = await analyse(
      crlf(['From: boss@example.org', 'From: evil@evil.example', '', 'x']),
    )
    expect(result.malformed?.detail).toContain('duplicate-singleton-header')
  })

  it.each([
    [
      'eight-bit-header',
      Buffer.from('From: a@x.org\r\nSubject: caf\xe9\r\n\r\nx', 'latin1'),
      'café',
    ],
    ['eight-bit-header', Buffer.from('From: a@x.org\r\nSubject: café\r\n\r\nx', 'utf8'), 'café'],
  ])('records %s and still decodes the subject', async (code, raw, subject) => {
    const result = await analyse(raw)
    expect(result.malformed).toBeNull()
    expect(result.defects.map((d) => d.code)).toContain(code)
    expect(result.headers.subject).toBe(subject)
  })

  it('records mixed line endings, bad base64 and unknown charsets without failing', async () => {
    const result = await analyse(
      Buffer.from(
        'From: a@x.org\nSubject: mixed\r\nContent-Type: text/plain; charset=x-unknown-9\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!aGVsbG8=\r\n',
        'latin1',
      ),
    )
    expect(result.malformed).toBeNull()
    expect(result.defects.map((d) => d.code).sort()).toEqual([
      'bare-line-ending',
      'invalid-base64',
      'unknown-charset',
    ])
  })
})

function nested(levels: number): Buffer {
  const lines = ['From: a@x.org']
  for (let i = 0; i < levels; i++) {
    lines.push(`Content-Type: multipart/mixed; boundary=b${i}`, '', `--b${i}`)
  }
  lines.push('Content-Type: text/plain', '', 'deep')
  for (let i = levels - 1; i >= 0; i--) lines.push(`--b${i}--`)
  return crlf(lines)
}

function manyParts(count: number): Buffer {
  const lines = ['From: a@x.org', 'Content-Type: multipart/mixed; boundary=b', '']
  for (let i = 0; i < count; i++) lines.push('--b', 'Content-Type: text/plain', '', `part ${i}`)
  lines.push('--b--')
  return crlf(lines)
}
