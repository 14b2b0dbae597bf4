import { describe, expect, it } from 'vitest'
import type { AuthResults } from '../auth/authenticate.js'
import { analyseMessage } from '../pipeline/analysis/analyse-message.js'
import type { MessageAnalysis } from '../pipeline/analysis/types.js'
import { DEFAULT_EXECUTABLE_EXTENSIONS } from '../scanners/config.js'
import type { Verdict } from '../scanners/contract.js'
import type { ScannerOutcome } from '../scanners/runner.js'
import { buildZip } from '../../../../test/support/zip.js'
import { TEST_LIMITS } from '../../../../test/support/pipeline.js'
import { compilePolicies, type PolicyFacts } from './compile.js'
import { policiesConfigSchema, policySchema } from './config.js'
import { evaluatePolicies } from './evaluate.js'
import { rewriteHeaders } from './rewrite.js'

const QUARANTINES = ['policy', 'virus', 'spam', 'malformed', 'executives']
const OPTIONS = { executableExtensions: DEFAULT_EXECUTABLE_EXTENSIONS, quarantines: QUARANTINES }

const defaultIncoming = policySchema.parse({
  name: 'default',
  rules: policiesConfigSchema.parse({}).incoming[0]?.rules,
})

function auth(
  partial: Partial<Record<'spf' | 'dkim' | 'dmarc', string>> & { policy?: string } = {},
): AuthResults {
  return {
    spf: {
      result: (partial.spf ?? 'pass') as AuthResults['spf']['result'],
      domain: 'x.example',
      comment: null,
    },
    dkim: { result: (partial.dkim ?? 'pass') as AuthResults['dkim']['result'], signatures: [] },
    dmarc: {
      result: (partial.dmarc ?? 'pass') as AuthResults['dmarc']['result'],
      domain: 'x.example',
      policy: (partial.policy ?? 'none') as AuthResults['dmarc']['policy'],
      comment: null,
    },
    arc: { result: 'none', comment: null },
    headers: '',
    timedOut: false,
  }
}

function scan(
  scanner: string,
  status: ScannerOutcome['result']['status'],
  verdicts: Verdict[] = [],
  score?: number,
  findings?: string[],
): ScannerOutcome {
  return {
    scanner,
    result: {
      status,
      verdicts,
      ...(score === undefined ? {} : { score }),
      ...(findings ? { findings } : {}),
    },
    durationMs: 1,
    failure: null,
    failureQuarantine: null,
  }
}

let plain: MessageAnalysis
async function message(extra: string[] = [], body = 'hello'): Promise<MessageAnalysis> {
  return analyseMessage(
    Buffer.from(
      [
        'From: Alice <alice@x.example>',
        'To: bob@corp.example',
        'Subject: hi',
        ...extra,
        '',
        body,
        '',
      ].join('\r\n'),
    ),
    { limits: TEST_LIMITS },
  )
}

function facts(
  analysis: MessageAnalysis,
  scans: ScannerOutcome[] = [],
  a: AuthResults | null = auth(),
): PolicyFacts {
  const verdicts = new Set<Verdict>(scans.flatMap((s) => s.result.verdicts))
  if (analysis.malformed) verdicts.add('malformed')
  return { analysis, auth: a, scans, verdicts, envelopeSender: 'alice@x.example' }
}

describe('default incoming policy', () => {
  it.each([
    ['clean', [], auth(), 'deliver', null, []],
    ['virus', [scan('clamav', 'fail', ['virus'])], auth(), 'quarantine:virus', 'virus', []],
    ['spam', [scan('rspamd', 'fail', ['spam'], 20)], auth(), 'quarantine:spam', 'spam', []],
    [
      'suspect spam',
      [scan('rspamd', 'fail', ['suspect-spam'], 7)],
      auth(),
      'deliver',
      null,
      ['[SPAM]'],
    ],
    [
      'block list',
      [scan('blocklists', 'fail', ['blocked'])],
      auth(),
      'quarantine:policy',
      'block-list',
      [],
    ],
    [
      'dmarc reject',
      [],
      auth({ dmarc: 'fail', policy: 'reject' }),
      'quarantine:policy',
      'dmarc-reject',
      [],
    ],
    [
      'dmarc quarantine',
      [],
      auth({ dmarc: 'fail', policy: 'quarantine' }),
      'quarantine:spam',
      'dmarc-quarantine',
      [],
    ],
    ['dmarc none', [], auth({ dmarc: 'fail', policy: 'none' }), 'deliver', null, []],
    [
      'executable',
      [scan('attachments', 'fail', ['executable'])],
      auth(),
      'quarantine:policy',
      'dangerous-attachment',
      [],
    ],
    [
      'credential form',
      [scan('phishing', 'fail', ['credential-form'])],
      auth(),
      'quarantine:policy',
      'credential-phishing',
      [],
    ],
    [
      'impersonation',
      [scan('display-name', 'fail', ['spoofed-display-name'])],
      auth(),
      'deliver',
      null,
      ['[EXTERNAL]'],
    ],
    [
      'virus beats spam (first match)',
      [scan('rspamd', 'fail', ['spam']), scan('clamav', 'fail', ['virus'])],
      auth(),
      'quarantine:virus',
      'virus',
      [],
    ],
  ] as const)('%s', async (_label, scans, authResults, expected, rule, tags) => {
    plain ??= await message()
    const policies = compilePolicies(
      policiesConfigSchema.parse({}),
      'incoming',
      defaultIncoming,
      OPTIONS,
    )
    const [decision] = evaluatePolicies(
      policies,
      'alice@x.example',
      ['bob@corp.example'],
      facts(plain, [...scans], authResults),
    )
    const final = decision?.final
    expect(final?.kind === 'quarantine' ? `quarantine:${final.quarantine}` : final?.kind).toBe(
      expected,
    )
    expect(decision?.finalRule).toBe(rule)
    expect(decision?.tagSubject).toEqual(tags)
  })

  it('sends a malformed message to the malformed quarantine', async () => {
    const analysis = await message([], 'x')
    const broken = { ...analysis, malformed: { reason: 'depth' as const, detail: 'too deep' } }
    const policies = compilePolicies(
      policiesConfigSchema.parse({}),
      'incoming',
      defaultIncoming,
      OPTIONS,
    )
    const [decision] = evaluatePolicies(policies, 'a@x.example', ['b@corp.example'], facts(broken))
    expect(decision?.final).toEqual({ kind: 'quarantine', quarantine: 'malformed' })
  })
})

describe('membership and recipient split', () => {
  const config = policiesConfigSchema.parse({
    groups: { executives: ['ceo@corp.example', 'cfo@corp.example'] },
    incoming: [
      {
        name: 'executives',
        recipients: ['group:executives'],
        rules: [
          { name: 'strict', when: { verdict: 'suspect-spam' }, then: { quarantine: 'executives' } },
        ],
      },
      {
        name: 'partners',
        senders: ['.partner.example'],
        rules: [{ name: 'trust', then: { deliver: true } }],
      },
    ],
  })
  const policies = compilePolicies(config, 'incoming', defaultIncoming, OPTIONS)

  it('splits recipients between policies, first match wins, default last', async () => {
    plain ??= await message()
    const decisions = evaluatePolicies(
      policies,
      'someone@else.example',
      ['ceo@corp.example', 'staff@corp.example', 'CFO@Corp.Example'],
      facts(plain, [scan('rspamd', 'fail', ['suspect-spam'])]),
    )
    expect(decisions.map((d) => [d.policy, d.recipientIndexes, d.final.kind])).toEqual([
      ['executives', [0, 2], 'quarantine'],
      ['default', [1], 'deliver'],
    ])
    expect(decisions[1]?.tagSubject).toEqual(['[SPAM]'])
  })

  it.each([
    ['mail.partner.example', 'partners'],
    ['partner.example', 'partners'],
    ['notpartner.example', 'default'],
  ])('sender domain %s → policy %s', async (domain, policy) => {
    plain ??= await message()
    const [decision] = evaluatePolicies(
      policies,
      `x@${domain}`,
      ['staff@corp.example'],
      facts(plain),
    )
    expect(decision?.policy).toBe(policy)
  })
})

describe('conditions', () => {
  const run = async (
    when: unknown,
    analysis: MessageAnalysis,
    scans: ScannerOutcome[] = [],
    a = auth(),
  ) => {
    const config = policiesConfigSchema.parse({
      lists: { shorteners: ['bit.ly', 'tinyurl.com'] },
      incoming: [{ name: 'p', rules: [{ name: 'r', when, then: { quarantine: 'policy' } }] }],
    })
    const policies = compilePolicies(config, 'incoming', defaultIncoming, OPTIONS)
    const [decision] = evaluatePolicies(
      policies,
      's@x.example',
      ['r@corp.example'],
      facts(analysis, scans, a),
    )
    return decision?.finalRule === 'r'
  }

  it.each([
    ['score gte', { score: { gte: 5 } }, [scan('rspamd', 'fail', [], 6)], true],
    ['score below', { score: { gte: 5 } }, [scan('rspamd', 'pass', [], 4)], false],
    [
      'symbol',
      { symbol: 'Eicar-Test-Signature' },
      [scan('clamav', 'fail', ['virus'], undefined, ['Eicar-Test-Signature.UNOFFICIAL'])],
      true,
    ],
    [
      'scanner error',
      { scanner: { id: 'clamav', result: 'error' } },
      [scan('clamav', 'error')],
      true,
    ],
    [
      'any',
      { any: [{ verdict: 'virus' }, { verdict: 'spam' }] },
      [scan('rspamd', 'fail', ['spam'])],
      true,
    ],
    [
      'all',
      { all: [{ verdict: 'spam' }, { spf: 'fail' }] },
      [scan('rspamd', 'fail', ['spam'])],
      false,
    ],
    ['not', { not: { verdict: 'spam' } }, [], true],
  ] as const)('%s', async (_label, when, scans, expected) => {
    plain ??= await message()
    expect(await run(when, plain, [...scans])).toBe(expected)
  })

  it('matches URL domains (with lists), sender domains, headers and size', async () => {
    const analysis = await message(
      ['X-Mailer: EvilMailer 1.0'],
      'go to https://bit.ly/abc and http://sub.evil.example/x',
    )
    expect(await run({ urlDomain: ['list:shorteners'] }, analysis)).toBe(true)
    expect(await run({ urlDomain: ['evil.example'] }, analysis)).toBe(true)
    expect(await run({ url: ['https://bit.ly/'] }, analysis)).toBe(true)
    expect(await run({ url: ['https://bit.ly/zzz'] }, analysis)).toBe(false)
    expect(await run({ senderDomain: ['x.example'] }, analysis)).toBe(true)
    expect(await run({ header: { name: 'x-mailer', contains: 'evilmailer' } }, analysis)).toBe(true)
    expect(await run({ header: { name: 'x-other', exists: false } }, analysis)).toBe(true)
    expect(await run({ size: { gt: '1KB' } }, analysis)).toBe(false)
    expect(await run({ size: { lt: 1024 } }, analysis)).toBe(true)
    expect(await run({ spf: ['fail', 'softfail'] }, analysis, [], auth({ spf: 'softfail' }))).toBe(
      true,
    )
  })

  it('matches attachments by extension, type, glob, executable and archive entries', async () => {
    const zip = buildZip([{ name: 'payload/run.js', data: Buffer.from('WScript.Echo(1)') }])
    const analysis = await analyseMessage(
      Buffer.from(
        [
          'From: a@x.example',
          'Content-Type: multipart/mixed; boundary=b',
          '',
          '--b',
          'Content-Type: image/png; name="photo.png"',
          'Content-Transfer-Encoding: base64',
          '',
          Buffer.from('\x89PNG\r\n\x1a\n0000000000000', 'latin1').toString('base64'),
          '--b',
          'Content-Type: application/zip; name="docs.zip"',
          'Content-Transfer-Encoding: base64',
          '',
          zip.toString('base64'),
          '--b--',
        ].join('\r\n'),
      ),
      { limits: TEST_LIMITS },
    )
    expect(await run({ attachment: { extension: ['png'] } }, analysis)).toBe(true)
    expect(await run({ attachment: { type: ['image/*'] } }, analysis)).toBe(true)
    expect(await run({ attachment: { name: ['*.ZIP'] } }, analysis)).toBe(true)
    expect(await run({ attachment: { executable: true, inArchive: false } }, analysis)).toBe(false)
    expect(await run({ attachment: { executable: true } }, analysis)).toBe(true)
    expect(await run({ attachment: { name: ['payload/*.js'], inArchive: true } }, analysis)).toBe(
      true,
    )
  })
})

describe('configuration errors', () => {
  it.each([
    [{ incoming: [{ name: 'p', recipients: ['group:nope'] }] }, /group "nope" is not defined/],
    [
      {
        incoming: [
          {
            name: 'p',
            rules: [{ name: 'r', when: { urlDomain: ['list:nope'] }, then: { drop: true } }],
          },
        ],
      },
      /list "nope"/,
    ],
    [
      { incoming: [{ name: 'p', rules: [{ name: 'r', then: { quarantine: 'nope' } }] }] },
      /"nope", which is not configured/,
    ],
    [{ incoming: [{ name: 'p' }, { name: 'p' }] }, /another incoming policy has this name/],
  ])('%j', (config, message) => {
    expect(() =>
      compilePolicies(policiesConfigSchema.parse(config), 'incoming', defaultIncoming, OPTIONS),
    ).toThrow(
      expect.objectContaining({
        code: 'GW_ERR_POLICY_INVALID',
        message: expect.stringMatching(message),
      }),
    )
  })

  it.each([
    [{ quarantine: 'spam', drop: true }, /only one final action/],
    [{ tagSubject: '' }, /too_small|>=1/i],
    [{ addHeaders: [{ name: 'Bad Name', value: 'x' }] }, /header field name/],
  ])('rejects actions %j', (then, message) => {
    const result = policiesConfigSchema.safeParse({
      incoming: [{ name: 'p', rules: [{ name: 'r', then }] }],
    })
    expect(result.success).toBe(false)
    expect(JSON.stringify(result.error?.issues)).toMatch(message)
  })
})

describe('rewriteHeaders', () => {
  const raw = Buffer.from(
    [
      'Authentication-Results: gw.example; spf=pass (forged by the sender)',
      'Authentication-Results: other.example; dkim=pass',
      'Subject: =?utf-8?q?Caf=C3=A9?= menu',
      'X-Remove-Me: yes',
      '\tfolded',
      'From: a@x.example',
      '',
      'body stays byte for byte \xff',
    ].join('\r\n'),
    'latin1',
  )
  const headerBytes = raw.indexOf('\r\n\r\n') + 4

  it('prepends, tags, adds, strips, and drops forged results for our authserv-id', () => {
    const out = rewriteHeaders(raw, headerBytes, {
      prepend: 'Authentication-Results: gw.example;\r\n spf=fail\r\n',
      tagSubject: ['[SPAM]'],
      addHeaders: [
        { name: 'X-Spam-Flag', value: 'YES' },
        { name: 'X-Note', value: 'Grüße\r\nInjected: no' },
      ],
      stripHeaders: ['x-remove-me'],
      authservId: 'gw.example',
    }).toString('latin1')
    expect(out).toBe(
      [
        'Authentication-Results: gw.example;',
        ' spf=fail',
        'X-Spam-Flag: YES',
        'X-Note: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= Injected: no',
        'Authentication-Results: other.example; dkim=pass',
        'Subject: [SPAM] =?utf-8?q?Caf=C3=A9?= menu',
        'From: a@x.example',
        '',
        'body stays byte for byte \xff',
      ].join('\r\n'),
    )
  })

  it('does not tag a subject twice and adds a Subject when there is none', () => {
    const tagged = rewriteHeaders(raw, headerBytes, {
      prepend: '',
      tagSubject: ['[SPAM]'],
      addHeaders: [],
      stripHeaders: [],
      authservId: null,
    })
    const again = rewriteHeaders(tagged, tagged.indexOf('\r\n\r\n') + 4, {
      prepend: '',
      tagSubject: ['[SPAM]'],
      addHeaders: [],
      stripHeaders: [],
      authservId: null,
    })
    expect(again.toString('latin1')).toBe(tagged.toString('latin1'))
    const none = Buffer.from('From: a@x.example\r\n\r\nb')
    expect(
      rewriteHeaders(none, 21, {
        prepend: '',
        tagSubject: ['[X]'],
        addHeaders: [],
        stripHeaders: [],
        authservId: null,
      }).toString(),
    ).toBe('Subject: [X]\r\nFrom: a@x.example\r\n\r\nb')
  })
})
