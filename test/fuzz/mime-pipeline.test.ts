import { readFileSync, readdirSync } from 'node:fs'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { analyseMessage } from '../../apps/gateway/src/pipeline/analysis/analyse-message.js'
import type {
  AnalysisLimits,
  MessageAnalysis,
} from '../../apps/gateway/src/pipeline/analysis/types.js'
import {
  startPipelineGateway,
  waitForStatus,
  type PipelineGateway,
} from '../support/pipeline-gateway.js'
import { fuzzParameters, fuzzTimeout } from './support.js'

const LIMITS: AnalysisLimits = {
  maxDepth: 20,
  maxParts: 200,
  maxHeaderBytes: 64 * 1024,
  maxDecodedBytes: 4 * 1024 * 1024,
  maxParseMs: 10_000,
  maxTextBytes: 512 * 1024,
  maxUrls: 50,
  maxArchiveEntries: 100,
  maxArchiveEntryBytes: 1024 * 1024,
}

/**
 * Messages that once broke a parser somewhere (ours or another gateway's), replayed as tests
 * and used as seeds of the mutations: a crash the fuzzer finds is added here as a file.
 */
const CORPUS_DIR = new URL('./corpus/mime/', import.meta.url)
const CORPUS = readdirSync(CORPUS_DIR)
  .filter((f) => f.endsWith('.eml'))
  .sort()
  .map((f) => [f, readFileSync(new URL(f, CORPUS_DIR))] as const)

const crlf = (lines: string[]) => lines.join('\r\n')

const token = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme-ascii' })
const hostile = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc.constantFrom(
    '<img src=x onerror=alert(1)>',
    '=?utf-8?b?PHNjcmlwdD4=?=',
    '=?x-unknown?q?=E0=FF?=',
    '=?utf-8?q?broken',
    '\u202eexe.pdf',
    'a\u0000b',
    '"\\"',
    '=?iso-2022-jp?b?GyRCJDMkcxsoQg==?=',
  ),
)
const url = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.constantFrom(
    'hxxps://evil[.]example/login',
    'http://[::1]:99999/',
    'https://xn--80ak6aa92e.com/',
    'http://%zz%/',
    'javascript:alert(1)',
    'https://user:pass@bank.example.evil.test/@@',
  ),
)
const encoding = fc.constantFrom('7bit', '8bit', 'base64', 'quoted-printable', 'x-uuencode', '')
const charset = fc.constantFrom('utf-8', 'iso-8859-1', 'windows-1252', 'x-bogus', 'utf-16', '')

function encodeBody(text: string, cte: string): string {
  if (cte === 'base64') return Buffer.from(text, 'utf8').toString('base64')
  if (cte === 'quoted-printable') return text.replace(/=/g, '=3D')
  return text
}

/** A leaf part: text, HTML with links and forms, or an attachment (often with a hostile name). */
const leaf = fc
  .tuple(
    fc.constantFrom(
      'text/plain',
      'text/html',
      'application/octet-stream',
      'application/zip',
      'message/rfc822',
      'image/png',
    ),
    charset,
    encoding,
    fc.option(hostile, { nil: undefined }),
    fc.array(url, { maxLength: 4 }),
    hostile,
  )
  .map(([type, cs, cte, filename, urls, text]) => {
    const body =
      type === 'text/html'
        ? `<html><body>${urls.map((u) => `<a href="${u}">${text}</a><form action="${u}"><input type=password></form>`).join('')}</body></html>`
        : `${text} ${urls.join(' ')}`
    return crlf([
      `Content-Type: ${type}${cs ? `; charset="${cs}"` : ''}${filename !== undefined ? `; name="${filename}"` : ''}`,
      ...(cte ? [`Content-Transfer-Encoding: ${cte}`] : []),
      ...(filename !== undefined
        ? [`Content-Disposition: attachment; filename="${filename}"`]
        : []),
      '',
      encodeBody(body, cte),
    ])
  })

/** A MIME tree: leaves, and multiparts whose boundaries are sometimes missing or wrong. */
const { part } = fc.letrec<{ part: string }>((tie) => ({
  part: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'mime' },
    leaf,
    fc
      .tuple(
        token,
        fc.constantFrom('mixed', 'alternative', 'related', 'signed', 'digest'),
        fc.array(tie('part'), { minLength: 0, maxLength: 4 }),
        fc.constantFrom('ok', 'no-close', 'wrong-boundary', 'no-boundary-param'),
      )
      .map(([boundary, sub, children, damage]) => {
        const param = damage === 'no-boundary-param' ? '' : `; boundary="${boundary}"`
        const used = damage === 'wrong-boundary' ? `${boundary}x` : boundary
        const body = children.map((c) => `--${used}\r\n${c}`).join('\r\n')
        return crlf([
          `Content-Type: multipart/${sub}${param}`,
          '',
          `${body}${damage === 'no-close' ? '' : `\r\n--${used}--`}`,
        ])
      }),
  ),
}))

/** Top-level headers around a MIME tree, with folding, repeats and encoded words. */
const message = fc
  .tuple(hostile, hostile, fc.array(fc.tuple(token, hostile), { maxLength: 6 }), part, fc.boolean())
  .map(([subject, name, extra, body, secondFrom]) =>
    Buffer.from(
      crlf([
        `From: "${name}" <sender@ext.example>`,
        ...(secondFrom ? ['From: other@ext.example'] : []),
        'To: alice@corp.example',
        `Subject: ${subject}`,
        '\tfolded continuation',
        'Message-ID: <fuzz@ext.example>',
        'MIME-Version: 1.0',
        ...extra.map(([k, v]) => `X-${k.replace(/[^A-Za-z0-9-]/g, 'x')}: ${v}`),
        body,
      ]),
      'utf8',
    ),
  )

/** Byte-level damage on a message: truncation, a NUL, bare CR/LF, flipped bytes. */
const mutated = (seed: fc.Arbitrary<Buffer>) =>
  fc
    .tuple(
      seed,
      fc.array(
        fc.tuple(fc.constantFrom('truncate', 'nul', 'bare-lf', 'bare-cr', 'flip', 'dup'), fc.nat()),
        { maxLength: 4 },
      ),
    )
    .map(([raw, edits]) => {
      let out = Buffer.from(raw)
      for (const [kind, n] of edits) {
        if (out.length === 0) break
        const at = n % out.length
        if (kind === 'truncate') out = out.subarray(0, at)
        else if (kind === 'nul')
          out = Buffer.concat([out.subarray(0, at), Buffer.of(0), out.subarray(at)])
        else if (kind === 'bare-lf')
          out = Buffer.concat([out.subarray(0, at), Buffer.from('\n'), out.subarray(at)])
        else if (kind === 'bare-cr')
          out = Buffer.concat([out.subarray(0, at), Buffer.from('\r'), out.subarray(at)])
        else if (kind === 'flip') out[at] = (out[at] as number) ^ 0xff
        else out = Buffer.concat([out, out.subarray(at)])
      }
      return out
    })

const anyMessage = fc.oneof(
  message,
  mutated(message),
  mutated(fc.constantFrom(...CORPUS.map(([, raw]) => raw))),
)

/** What every analysis must look like, whatever went in. */
function checkAnalysis(raw: Buffer, result: MessageAnalysis): void {
  expect(result.size).toBe(raw.length)
  expect(result.urls.length).toBeLessThanOrEqual(LIMITS.maxUrls)
  expect(result.urlCount).toBeGreaterThanOrEqual(result.urls.length)
  if (result.malformed === null) expect(result.parts.length).toBeLessThanOrEqual(LIMITS.maxParts)
  for (const u of result.urls) expect(() => new URL(u.url)).not.toThrow()
  for (const a of result.attachments) {
    if (a.sha256 !== null) expect(a.sha256).toMatch(/^[0-9a-f]{64}$/)
  }
  // The analysis crosses a worker-thread boundary and lands in the tracking database.
  expect(() => structuredClone(result)).not.toThrow()
  expect(JSON.parse(JSON.stringify(result))).toBeTypeOf('object')
}

describe('fuzz: the MIME analysis with generated and damaged messages', () => {
  it.each(CORPUS)('corpus %s: analysed without throwing', async (_name, raw) => {
    checkAnalysis(raw, await analyseMessage(raw, { limits: LIMITS, includeText: true }))
  })

  it(
    'never throws, keeps to its caps and returns a serialisable analysis',
    async () => {
      await fc.assert(
        fc.asyncProperty(anyMessage, async (raw) => {
          checkAnalysis(raw, await analyseMessage(raw, { limits: LIMITS, includeText: true }))
        }),
        fuzzParameters('mime-analysis'),
      )
    },
    fuzzTimeout(),
  )
})

const FINAL = ['delivered', 'quarantined', 'dropped', 'bounced']

describe('fuzz: the whole content pipeline of a real gateway, mail over SMTP', () => {
  let gw: PipelineGateway
  beforeAll(async () => {
    gw = await startPipelineGateway({ workers: 1, authentication: { enabled: false } })
  })
  afterAll(async () => gw?.stop())

  it(
    'takes every accepted message to a final status, and the gateway stays healthy',
    async () => {
      let sent = 0
      await fc.assert(
        fc.asyncProperty(anyMessage, async (raw) => {
          const reply = await gw
            .send('inbound', { from: 'sender@ext.example', to: ['alice@corp.example'] }, raw)
            .then((r) => r.response)
            .catch((err: { response?: string }) => err.response ?? String(err))
          const mid = /queued as (\d+)/.exec(reply)?.[1]
          // A refusal is a coded SMTP reply (an oversize or unparsable envelope), never a drop.
          if (mid === undefined) return void expect(reply).toMatch(/^[45]\d\d /)
          sent++
          await waitForStatus(gw, Number(mid), FINAL).catch(async (err: Error) => {
            const events = await gw.gateway.tracking.store.listEvents(Number(mid))
            throw new Error(
              `${err.message}: ${JSON.stringify(events.map((e) => [e.event, e.details]))}`,
            )
          })
        }),
        { ...fuzzParameters('mime-pipeline'), numRuns: 200 },
      )
      expect(sent).toBeGreaterThan(0)
      expect((await fetch(`${gw.httpUrl}/healthz`)).status).toBe(200)
    },
    fuzzTimeout(),
  )
})
