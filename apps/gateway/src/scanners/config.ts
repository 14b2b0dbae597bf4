import { z } from 'zod'
import { byteSize, duration } from '../config-values.js'

const failurePolicy = (fallback: 'tempfail' | 'skip' | 'quarantine', what: string) =>
  z
    .enum(['tempfail', 'skip', 'quarantine'])
    .default(fallback)
    .describe(
      `What happens when ${what} errors or times out: \`tempfail\` keeps the message in the ` +
        'queue and processes it again later, `skip` goes on without its verdict, `quarantine` ' +
        'holds the message in `failureQuarantine`.',
    )

const directions = z
  .array(z.enum(['incoming', 'outgoing']))
  .min(1)
  .default(['incoming', 'outgoing'])
  .describe('Mail directions this scanner looks at.')

export const rspamdConfigSchema = z
  .object({
    enabled: z.boolean().default(false).describe('Scan with rspamd (spam, phishing, rules).'),
    url: z
      .url({ protocol: /^https?$/ })
      .default('http://127.0.0.1:11333')
      .describe('Base URL of rspamd’s normal worker; the gateway POSTs to `/checkv2`.'),
    password: z
      .string()
      .optional()
      .describe('Sent as the `Password` header when rspamd’s worker requires one.'),
    timeout: duration('Longest wait for rspamd’s verdict on one message.').prefault('15s'),
    maxSize: byteSize('Larger messages are not sent to rspamd (result `skip`).').prefault('20MB'),
    maxConnections: z
      .number()
      .int()
      .positive()
      .default(32)
      .describe('Concurrent HTTP connections to rspamd.'),
    directions,
    onFailure: failurePolicy('skip', 'rspamd'),
    failureQuarantine: z
      .string()
      .default('policy')
      .describe('Quarantine used when `onFailure` is `quarantine`.'),
    spamActions: z
      .array(z.string())
      .default(['reject'])
      .describe('rspamd actions that raise the `spam` verdict.'),
    suspectActions: z
      .array(z.string())
      .default(['add header', 'rewrite subject', 'soft reject'])
      .describe('rspamd actions that raise the `suspect-spam` verdict.'),
  })
  .strict()

export const clamavConfigSchema = z
  .object({
    enabled: z.boolean().default(false).describe('Scan with ClamAV through clamd.'),
    address: z
      .string()
      .default('127.0.0.1:3310')
      .describe('clamd’s `TCPSocket` as `host:port`, or the path of its `LocalSocket`.'),
    timeout: duration('Longest wait for clamd’s verdict on one message.').prefault('30s'),
    maxSize: byteSize(
      'Larger messages are not sent to clamd (result `skip`); keep it at or below clamd’s ' +
        '`StreamMaxLength`.',
    ).prefault('25MB'),
    directions,
    onFailure: failurePolicy('tempfail', 'clamd'),
    failureQuarantine: z
      .string()
      .default('virus')
      .describe('Quarantine used when `onFailure` is `quarantine`.'),
  })
  .strict()

/** Extensions Windows (and common mail clients) run or open with an interpreter. */
export const DEFAULT_EXECUTABLE_EXTENSIONS = [
  'exe',
  'scr',
  'com',
  'pif',
  'bat',
  'cmd',
  'cpl',
  'msi',
  'msp',
  'mst',
  'msc',
  'jar',
  'js',
  'jse',
  'vbs',
  'vbe',
  'wsf',
  'wsh',
  'wsc',
  'hta',
  'ps1',
  'psm1',
  'lnk',
  'reg',
  'scf',
  'inf',
  'dll',
  'sys',
  'gadget',
  'application',
  'appx',
  'appxbundle',
  'msix',
  'iso',
  'img',
  'vhd',
  'vhdx',
  'chm',
  'url',
  'xll',
  'one',
  'sh',
  'command',
  'app',
  'dmg',
  'apk',
]

export const DEFAULT_SHORTENER_DOMAINS = [
  'bit.ly',
  'tinyurl.com',
  't.co',
  'goo.gl',
  'ow.ly',
  'is.gd',
  'buff.ly',
  'rebrand.ly',
  'cutt.ly',
  'shorturl.at',
  'tiny.cc',
  'rb.gy',
  'bl.ink',
  'lnkd.in',
  'soo.gd',
  's.id',
  'v.gd',
  't.ly',
]

export const builtinChecksConfigSchema = z
  .object({
    attachments: z
      .object({
        enabled: z.boolean().default(true).describe('Check attachment types and names.'),
        executableExtensions: z
          .array(z.string().regex(/^[a-z0-9]+$/, 'a lower-case extension without the dot'))
          .default(DEFAULT_EXECUTABLE_EXTENSIONS)
          .describe(
            'Extensions that raise `executable` (also inside zip archives); a second ' +
              'extension before one of these (`invoice.pdf.exe`) raises `double-extension`.',
          ),
      })
      .strict()
      .prefault({})
      .describe(
        'Executable and disguised attachments: sniffed executables (PE, ELF, Mach-O, scripts), ' +
          'executable extensions, double extensions, right-to-left override tricks, encrypted ' +
          'archives and Office macros.',
      ),
    phishing: z
      .object({
        enabled: z.boolean().default(true).describe('Look for credential-phishing hints.'),
        shortenerDomains: z
          .array(z.string())
          .default(DEFAULT_SHORTENER_DOMAINS)
          .describe('URL shortener domains; a link to one raises `shortened-url`.'),
      })
      .strict()
      .prefault({})
      .describe(
        'HTML forms asking for passwords (`credential-form`), links whose text shows another ' +
          'domain than they lead to (`deceptive-link`), links to URL shorteners (`shortened-url`).',
      ),
    displayNameSpoof: z
      .object({
        enabled: z.boolean().default(true).describe('Look for impersonated internal users.'),
        protectedNames: z
          .array(z.string().min(2))
          .default([])
          .describe(
            'Display names to protect in addition to those learned from outgoing mail ' +
              '(e.g. executives).',
          ),
        learnFromOutgoing: z
          .boolean()
          .default(true)
          .describe('Remember the display names internal users send outgoing mail with.'),
      })
      .strict()
      .prefault({})
      .describe(
        'Incoming mail whose From display name is an internal user’s name (or an internal ' +
          'address) while the address is external raises `spoofed-display-name`.',
      ),
    newSenderDomain: z
      .object({
        enabled: z.boolean().default(true).describe('Track sender domains seen.'),
        window: duration(
          'A header From domain first seen less than this long ago raises `new-sender-domain`.',
        ).prefault('3d'),
        warmup: duration(
          'Nothing is new during this long after the first message the gateway ever records, ' +
            'while it learns the usual senders.',
        ).prefault('7d'),
      })
      .strict()
      .prefault({})
      .describe('Newly seen sender domains (incoming mail).'),
  })
  .strict()

export const scannersConfigSchema = z
  .object({
    rspamd: rspamdConfigSchema.prefault({}).describe('rspamd over HTTP.'),
    clamav: clamavConfigSchema.prefault({}).describe('ClamAV over clamd’s INSTREAM command.'),
    builtin: builtinChecksConfigSchema.prefault({}).describe('Checks built into the gateway.'),
  })
  .strict()

export type ScannersConfig = z.output<typeof scannersConfigSchema>
export type RspamdConfig = z.output<typeof rspamdConfigSchema>
export type ClamavConfig = z.output<typeof clamavConfigSchema>
export type BuiltinChecksConfig = z.output<typeof builtinChecksConfigSchema>
