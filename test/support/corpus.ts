import { readFileSync } from 'node:fs'
import { EICAR } from './clamd.js'
import { dkimTxtRecord, signMessage } from './dkim.js'
import { buildZip } from './zip.js'

/**
 * The `.eml` corpus (test/corpus/): every file is built here, committed, and checked to be
 * what its builder produces (`UPDATE_CORPUS=1` rewrites them). Each case says what the pipeline
 * must decide for it with the corpus test configuration (rspamd and ClamAV on, default
 * policies, the corpus DNS zone): the outcome, and the verdicts/defects that explain it.
 */
export type CorpusOutcome =
  'deliver' | 'quarantine:malformed' | 'quarantine:policy' | 'quarantine:virus' | 'quarantine:spam'

export interface CorpusCase {
  /** Path under test/corpus/. */
  file: string
  what: string
  build(): Buffer | Promise<Buffer>
  outcome: CorpusOutcome
  /** Verdicts that must be raised. */
  verdicts?: string[]
  /** Defects that must be recorded. */
  defects?: string[]
  /** The malformed reason, for malformed outcomes. */
  malformed?: string
  envelope?: { from: string; to: string[] }
  direction?: 'incoming' | 'outgoing'
  /**
   * The gateway's SMTP listener (default limits) refuses this file before the pipeline sees it;
   * the value names the limit.
   */
  smtpRefused?: 'nul' | 'line-length' | 'received-count'
  /**
   * The outcome over SMTP when the listener (`lineEndings: normalize`) turns bare CRs and LFs
   * into CRLF first, which changes the message; defaults to `outcome`.
   */
  smtpOutcome?: CorpusOutcome
}

export const CORPUS_DIR = new URL('../corpus/', import.meta.url)

/** Test key of the corpus's DKIM-signed mail (never used anywhere else). */
export const CORPUS_DKIM = {
  domain: 'signed.example',
  selector: 'corpus2024',
  keyFile: new URL('../corpus/keys/signed.example.corpus2024.pem', import.meta.url),
}

/** The DNS zone the corpus is authenticated against (served by the test DNS responder). */
export function corpusZone(): Record<string, { TXT?: string[]; A?: string[] }> {
  return {
    'signed.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
    '_dmarc.signed.example': { TXT: ['v=DMARC1; p=reject'] },
    [`${CORPUS_DKIM.selector}._domainkey.${CORPUS_DKIM.domain}`]: {
      TXT: [dkimTxtRecord(readFileSync(CORPUS_DKIM.keyFile, 'utf8'))],
    },
    'sender.example': { TXT: ['v=spf1 ip4:192.0.2.0/24 ~all'] },
    'corp.example': { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'] },
    '_dmarc.corp.example': { TXT: ['v=DMARC1; p=reject'] },
  }
}

const CRLF = '\r\n'
const DATE = 'Date: Tue, 02 Jan 2024 10:00:00 +0000'

function lines(...parts: (string | string[])[]): string {
  return parts.flat().join(CRLF) + CRLF
}

function bin(text: string): Buffer {
  return Buffer.from(text, 'latin1')
}

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8')
}

function head(subject: string, extra: string[] = []): string[] {
  return [
    'From: Sender <sender@sender.example>',
    'To: Bob <bob@corp.example>',
    `Subject: ${subject}`,
    `Message-ID: <${subject.toLowerCase().replace(/[^a-z0-9]+/g, '.')}@sender.example>`,
    DATE,
    'MIME-Version: 1.0',
    ...extra,
  ]
}

function nestedMultiparts(depth: number): string {
  const out = head(`nested ${depth}`)
  for (let i = 0; i < depth; i++)
    out.push(`Content-Type: multipart/mixed; boundary="n${i}"`, '', `--n${i}`)
  out.push('Content-Type: text/plain', '', 'the bottom')
  for (let i = depth - 1; i >= 0; i--) out.push(`--n${i}--`)
  return lines(out)
}

function nestedMessages(depth: number): string {
  let inner = lines('From: inner@sender.example', 'Subject: innermost', '', 'deep inside')
  for (let i = 0; i < depth; i++) {
    inner = lines(
      `From: level${i}@sender.example`,
      `Subject: level ${i}`,
      'Content-Type: message/rfc822',
      '',
      inner,
    )
  }
  return lines(head(`nested messages ${depth}`, ['Content-Type: message/rfc822']), '', inner)
}

function manyParts(count: number): string {
  const out = head(`${count} parts`, ['Content-Type: multipart/mixed; boundary="p"'])
  out.push('')
  for (let i = 0; i < count; i++) out.push('--p', 'Content-Type: text/plain', '', `part ${i}`)
  out.push('--p--')
  return lines(out)
}

function attachment(
  name: string,
  type: string,
  data: Buffer,
  subject: string,
  extra: string[] = [],
): string {
  return lines(
    head(subject, ['Content-Type: multipart/mixed; boundary="att"', ...extra]),
    '',
    '--att',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Please find the file attached.',
    '--att',
    `Content-Type: ${type}; name="${name}"`,
    `Content-Disposition: attachment; filename="${name}"`,
    'Content-Transfer-Encoding: base64',
    '',
    data.toString('base64').replace(/(.{76})/g, `$1${CRLF}`),
    '--att--',
  )
}

/** A fake Windows executable: the MZ/PE headers file-type recognises, no code. */
function fakeExe(): Buffer {
  const pe = Buffer.alloc(512)
  pe.write('MZ', 0, 'latin1')
  pe.writeUInt32LE(0x80, 0x3c)
  pe.write('PE\0\0', 0x80, 'latin1')
  return pe
}

const clean = (): Buffer =>
  utf8(
    lines(
      head('Team lunch on Friday'),
      '',
      'Hi Bob,',
      '',
      'Lunch is at noon, menu at https://sender.example/menu',
      '',
      'Sender',
    ),
  )

export const CORPUS: CorpusCase[] = [
  // --- Well-formed mail ------------------------------------------------------------------------
  { file: 'clean/plain-text.eml', what: 'plain text', build: clean, outcome: 'deliver' },
  {
    file: 'clean/multipart-alternative.eml',
    what: 'text and HTML alternatives with an inline image',
    build: () =>
      utf8(
        lines(
          head('Newsletter January', ['Content-Type: multipart/alternative; boundary="alt"']),
          '',
          '--alt',
          'Content-Type: text/plain; charset=utf-8',
          'Content-Transfer-Encoding: quoted-printable',
          '',
          'Caf=C3=A9 news: https://sender.example/news',
          '--alt',
          'Content-Type: text/html; charset=utf-8',
          '',
          '<html><body><p>Caf\u00e9 news: <a href="https://sender.example/news">https://sender.example/news</a></p></body></html>',
          '--alt--',
        ),
      ),
    outcome: 'deliver',
  },
  {
    file: 'clean/pdf-attachment.eml',
    what: 'a PDF attachment',
    build: () =>
      utf8(
        attachment(
          'invoice.pdf',
          'application/pdf',
          bin('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n'),
          'Invoice 2024-001',
        ),
      ),
    outcome: 'deliver',
  },
  {
    file: 'clean/dkim-signed.eml',
    what: 'DKIM-signed by an aligned domain, sent from an SPF-allowed IP',
    build: () =>
      signMessage(
        utf8(
          lines(
            'From: Signed Sender <news@signed.example>',
            'To: bob@corp.example',
            'Subject: Signed announcement',
            'Message-ID: <announce.1@signed.example>',
            DATE,
            '',
            'This message is signed with DKIM (relaxed/relaxed).',
          ),
        ),
        {
          domain: CORPUS_DKIM.domain,
          selector: CORPUS_DKIM.selector,
          privateKeyPem: readFileSync(CORPUS_DKIM.keyFile, 'utf8'),
          signTime: new Date('2024-01-02T10:00:00Z'),
        },
      ),
    envelope: { from: 'news@signed.example', to: ['bob@corp.example'] },
    outcome: 'deliver',
  },

  // --- Threats ---------------------------------------------------------------------------------
  {
    file: 'threats/phishing-bitly.eml',
    what: 'credential phishing: link text shows the bank, the link goes through bit.ly',
    build: () =>
      utf8(
        lines(
          'From: "Bank Security" <security@bank-alerts.example>',
          'To: bob@corp.example',
          'Subject: Unusual sign-in activity',
          'Message-ID: <alert.7@bank-alerts.example>',
          DATE,
          'MIME-Version: 1.0',
          'Content-Type: text/html; charset=utf-8',
          '',
          '<p>We blocked a sign-in. Confirm your identity within 24 hours:</p>',
          '<p><a href="https://bit.ly/3Qx7Bnk">https://www.mybank.example/secure/login</a></p>',
        ),
      ),
    outcome: 'quarantine:policy',
    verdicts: ['deceptive-link', 'shortened-url'],
  },
  {
    file: 'threats/phishing-form.eml',
    what: 'an HTML attachment with a password form',
    build: () =>
      utf8(
        attachment(
          'Secure_Message.html',
          'text/html',
          utf8(
            '<html><body><form action="https://collect.example/p.php" method="post">Email <input name="email"> Password <input type="password" name="pass"></form></body></html>',
          ),
          'You have a secure message',
        ),
      ),
    outcome: 'quarantine:policy',
    verdicts: ['credential-form'],
  },
  {
    file: 'threats/eicar-attachment.eml',
    what: 'the EICAR test file as an attachment',
    build: () =>
      utf8(attachment('eicar.com', 'application/octet-stream', bin(EICAR), 'Antivirus test')),
    outcome: 'quarantine:virus',
    verdicts: ['virus'],
  },
  {
    file: 'threats/zipped-executable.eml',
    what: 'a zip holding invoice.pdf.exe',
    build: () =>
      utf8(
        attachment(
          'invoice.zip',
          'application/zip',
          buildZip([{ name: 'invoice.pdf.exe', data: fakeExe() }]),
          'Overdue invoice',
        ),
      ),
    outcome: 'quarantine:policy',
    verdicts: ['executable', 'double-extension'],
  },
  {
    file: 'threats/spoofed-display-name.eml',
    what: 'the CEO’s name with an outside address',
    build: () =>
      utf8(
        lines(
          'From: "Jane Doe" <jane.doe.ceo@freemail.example>',
          'To: bob@corp.example',
          'Subject: Urgent wire transfer',
          'Message-ID: <wire.1@freemail.example>',
          DATE,
          '',
          'Bob, I need you to send a wire today. Reply with your availability. Jane',
        ),
      ),
    outcome: 'deliver',
    verdicts: ['spoofed-display-name'],
  },
  {
    file: 'threats/gtube-spam.eml',
    what: 'the GTUBE spam test string',
    build: () =>
      utf8(
        lines(
          head('Cheap watches'),
          '',
          'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X',
        ),
      ),
    outcome: 'quarantine:spam',
    verdicts: ['spam'],
  },
  {
    file: 'threats/rtlo-filename.eml',
    what: 'a file name using U+202E to look like a .pdf',
    build: () =>
      utf8(attachment('invoice\u202efdp.exe', 'application/octet-stream', fakeExe(), 'Invoice')),
    outcome: 'quarantine:policy',
    verdicts: ['executable', 'double-extension'],
  },
  {
    file: 'threats/encrypted-zip.eml',
    what: 'an encrypted zip (scanners cannot open it)',
    build: () =>
      utf8(
        attachment(
          'docs.zip',
          'application/zip',
          buildZip([
            { name: 'report.docm', data: bin('encrypted'), encryptedFlag: true, store: true },
          ]),
          'Password is 1234',
        ),
      ),
    outcome: 'deliver',
    verdicts: ['encrypted-archive'],
  },
  {
    file: 'threats/dmarc-reject-spoof.eml',
    what: 'From our own domain, sent from outside (DMARC p=reject fails)',
    build: () =>
      utf8(
        lines(
          'From: CEO <ceo@corp.example>',
          'To: bob@corp.example',
          'Subject: Payroll change',
          'Message-ID: <x@evil.example>',
          DATE,
          '',
          'Update my bank details.',
        ),
      ),
    envelope: { from: 'ceo@corp.example', to: ['bob@corp.example'] },
    outcome: 'quarantine:policy',
    verdicts: ['auth-fail'],
  },

  // --- Malformed: broken boundaries ----------------------------------------------------------
  {
    file: 'malformed/boundary-never-used.eml',
    what: 'multipart whose boundary never appears: everything is preamble',
    build: () =>
      utf8(
        lines(
          head('boundary never used', ['Content-Type: multipart/mixed; boundary="declared"']),
          '',
          '--other',
          'Content-Type: text/plain',
          '',
          'hidden https://hidden.example/x',
          '--other--',
        ),
      ),
    outcome: 'quarantine:malformed',
    malformed: 'structure',
    defects: ['empty-multipart'],
  },
  {
    file: 'malformed/boundary-missing-param.eml',
    what: 'multipart without a boundary parameter',
    build: () =>
      utf8(
        lines(
          head('no boundary', ['Content-Type: multipart/mixed']),
          '',
          'text https://hidden.example/y',
        ),
      ),
    outcome: 'quarantine:malformed',
    malformed: 'structure',
    defects: ['missing-boundary'],
  },
  {
    file: 'malformed/boundary-unterminated.eml',
    what: 'the closing boundary is missing',
    build: () =>
      utf8(
        lines(
          head('unterminated', ['Content-Type: multipart/mixed; boundary="u"']),
          '',
          '--u',
          'Content-Type: text/plain',
          '',
          'first part',
          '--u',
          'Content-Type: text/plain',
          '',
          'second part, then the message just ends',
        ),
      ),
    outcome: 'deliver',
    defects: ['unterminated-multipart'],
  },
  {
    file: 'malformed/boundary-unbalanced-quote.eml',
    what: 'boundary parameter with an unbalanced quote',
    build: () =>
      utf8(
        lines(
          head('unbalanced quote', ['Content-Type: multipart/mixed; boundary="abc']),
          '',
          '--abc',
          'Content-Type: text/plain',
          '',
          'body',
          '--abc--',
        ),
      ),
    outcome: 'deliver',
  },
  {
    file: 'malformed/boundary-in-body-text.eml',
    what: 'a line of body text that looks like the boundary',
    build: () =>
      utf8(
        lines(
          head('boundary in text', ['Content-Type: multipart/mixed; boundary="b"']),
          '',
          '--b',
          'Content-Type: text/plain',
          '',
          'this line is fine',
          '--b-- (not really the end)',
          'more',
          '--b--',
        ),
      ),
    outcome: 'deliver',
  },
  {
    file: 'malformed/boundary-nested-mismatch.eml',
    what: 'inner multipart closes with the outer boundary',
    build: () =>
      utf8(
        lines(
          head('nested mismatch', ['Content-Type: multipart/mixed; boundary="outer"']),
          '',
          '--outer',
          'Content-Type: multipart/alternative; boundary="inner"',
          '',
          '--inner',
          'Content-Type: text/plain',
          '',
          'inner text',
          '--outer--',
        ),
      ),
    outcome: 'deliver',
    defects: ['unterminated-multipart'],
  },
  {
    file: 'malformed/boundary-overlong.eml',
    what: 'a 300-character boundary (RFC 2046 allows 70)',
    build: () => {
      const b = 'x'.repeat(300)
      return utf8(
        lines(
          head('overlong boundary', [`Content-Type: multipart/mixed; boundary="${b}"`]),
          '',
          `--${b}`,
          'Content-Type: text/plain',
          '',
          'body',
          `--${b}--`,
        ),
      )
    },
    outcome: 'deliver',
  },
  {
    file: 'malformed/boundary-no-blank-line.eml',
    what: 'part headers run straight into the body',
    build: () =>
      utf8(
        lines(
          head('no blank line', ['Content-Type: multipart/mixed; boundary="b"']),
          '',
          '--b',
          'Content-Type: text/plain',
          'body without a separator https://x.example/',
          '--b--',
        ),
      ),
    outcome: 'deliver',
  },
  {
    file: 'malformed/boundary-empty-parts.eml',
    what: 'a multipart with ten empty parts',
    build: () =>
      utf8(
        lines(
          head('empty parts', ['Content-Type: multipart/mixed; boundary="e"']),
          '',
          Array.from({ length: 10 }, () => ['--e', '']).flat(),
          '--e--',
        ),
      ),
    outcome: 'deliver',
  },
  {
    file: 'malformed/boundary-whitespace-padding.eml',
    // RFC 2046 §5.1.1 allows transport padding after a boundary; mailsplit does not, so the
    // parts are not found and the message is held as malformed (nothing hides unscanned).
    what: 'boundary lines with trailing spaces and tabs (transport padding)',
    build: () =>
      utf8(
        lines(
          head('padded boundaries', ['Content-Type: multipart/mixed; boundary="w"']),
          '',
          '--w \t ',
          'Content-Type: text/plain',
          '',
          'padded',
          '--w--  ',
        ),
      ),
    outcome: 'quarantine:malformed',
    malformed: 'structure',
    defects: ['empty-multipart'],
  },

  // --- Malformed: nesting and part counts ----------------------------------------------------
  {
    file: 'malformed/nesting-30-multiparts.eml',
    what: '30 nested multiparts (cap 20)',
    build: () => utf8(nestedMultiparts(30)),
    outcome: 'quarantine:malformed',
    malformed: 'depth',
  },
  {
    file: 'malformed/nesting-500-multiparts.eml',
    what: '500 nested multiparts (the part cap, 500, is reached before the depth is checked)',
    build: () => utf8(nestedMultiparts(500)),
    outcome: 'quarantine:malformed',
    malformed: 'parts',
  },
  {
    file: 'malformed/nesting-40-messages.eml',
    what: '40 nested attached messages',
    build: () => utf8(nestedMessages(40)),
    outcome: 'quarantine:malformed',
    malformed: 'depth',
  },
  {
    file: 'malformed/nesting-base64-messages.eml',
    what: 'attached messages inside base64 inside attached messages (5 levels)',
    build: () => {
      let inner = utf8(
        lines(
          'From: inner@sender.example',
          'Subject: innermost',
          '',
          'see https://inner.example/deep',
        ),
      )
      for (let i = 0; i < 5; i++) {
        inner = utf8(
          lines(
            `From: l${i}@sender.example`,
            `Subject: level ${i}`,
            'Content-Type: message/rfc822',
            'Content-Transfer-Encoding: base64',
            '',
            inner.toString('base64'),
          ),
        )
      }
      return utf8(
        lines(
          head('base64 nesting', [
            'Content-Type: message/rfc822',
            'Content-Transfer-Encoding: base64',
          ]),
          '',
          inner.toString('base64'),
        ),
      )
    },
    outcome: 'deliver',
  },
  {
    file: 'malformed/parts-600.eml',
    what: '600 parts (cap 500)',
    build: () => utf8(manyParts(600)),
    outcome: 'quarantine:malformed',
    malformed: 'parts',
  },
  {
    file: 'malformed/parts-400.eml',
    what: '400 parts (under the cap)',
    build: () => utf8(manyParts(400)),
    outcome: 'deliver',
  },

  // --- Malformed: huge headers ----------------------------------------------------------------
  {
    file: 'malformed/header-300kb-field.eml',
    what: 'one 300 KB header field (cap 256 KB)',
    build: () =>
      utf8(lines(head('huge field', [`X-Padding: ${'A'.repeat(300 * 1024)}`]), '', 'body')),
    outcome: 'quarantine:malformed',
    malformed: 'header-size',
    smtpRefused: 'line-length',
  },
  {
    file: 'malformed/header-20000-fields.eml',
    what: '20 000 header fields (about 400 KB)',
    build: () =>
      utf8(
        lines(
          head(
            'many fields',
            Array.from({ length: 20000 }, (_, i) => `X-Field-${i}: value`),
          ),
          '',
          'body',
        ),
      ),
    outcome: 'quarantine:malformed',
    malformed: 'header-size',
  },
  {
    file: 'malformed/header-5000-received.eml',
    what: '5 000 Received fields (a mail loop)',
    build: () =>
      utf8(
        lines(
          Array.from(
            { length: 5000 },
            (_, i) =>
              `Received: from hop${i}.example (hop${i}.example [192.0.2.${i % 250}]) by hop${i + 1}.example; ${DATE.slice(6)}`,
          ),
          head('mail loop'),
          '',
          'body',
        ),
      ),
    outcome: 'quarantine:malformed',
    malformed: 'header-size',
    smtpRefused: 'received-count',
  },
  {
    file: 'malformed/header-folded-10000.eml',
    what: 'a header field folded over 10 000 lines (about 40 KB)',
    build: () =>
      utf8(
        lines(
          head('folded', [
            `X-Folded: start${Array.from({ length: 10000 }, () => `${CRLF} w`).join('')}`,
          ]),
          '',
          'body',
        ),
      ),
    outcome: 'deliver',
  },
  {
    file: 'malformed/header-part-300kb.eml',
    what: 'a MIME part with a 300 KB header',
    build: () =>
      utf8(
        lines(
          head('huge part header', ['Content-Type: multipart/mixed; boundary="h"']),
          '',
          '--h',
          `Content-Type: text/plain; x-pad="${'p'.repeat(300 * 1024)}"`,
          '',
          'body',
          '--h--',
        ),
      ),
    outcome: 'quarantine:malformed',
    malformed: 'header-size',
    smtpRefused: 'line-length',
  },

  // --- Malformed: bad encodings ---------------------------------------------------------------
  {
    file: 'malformed/base64-invalid-characters.eml',
    what: 'base64 with characters outside the alphabet',
    build: () =>
      utf8(
        lines(
          head('bad base64', ['Content-Type: text/plain', 'Content-Transfer-Encoding: base64']),
          '',
          '!!!aGVs**bG8g**d29y$$bGQ=',
        ),
      ),
    outcome: 'deliver',
    defects: ['invalid-base64'],
  },
  {
    file: 'malformed/base64-truncated.eml',
    what: 'base64 cut in the middle of a quantum',
    build: () =>
      utf8(
        lines(
          head('truncated base64', [
            'Content-Type: text/plain',
            'Content-Transfer-Encoding: base64',
          ]),
          '',
          'aGVsbG8gd29ybG',
        ),
      ),
    outcome: 'deliver',
  },
  {
    file: 'malformed/base64-attachment-garbage.eml',
    what: 'a base64 attachment that is mostly garbage',
    build: () =>
      utf8(
        lines(
          head('garbage attachment', ['Content-Type: multipart/mixed; boundary="g"']),
          '',
          '--g',
          'Content-Type: application/pdf; name="x.pdf"',
          'Content-Transfer-Encoding: base64',
          '',
          '%%%%====@@@@####',
          '--g--',
        ),
      ),
    outcome: 'deliver',
    defects: ['invalid-base64'],
  },
  {
    file: 'malformed/qp-invalid-escapes.eml',
    what: 'quoted-printable with invalid escapes and a trailing soft break',
    build: () =>
      utf8(
        lines(
          head('bad qp', [
            'Content-Type: text/plain; charset=utf-8',
            'Content-Transfer-Encoding: quoted-printable',
          ]),
          '',
          'bad =ZZ escape =4 and =',
          'soft break at end=',
        ),
      ),
    outcome: 'deliver',
  },
  {
    file: 'malformed/unknown-transfer-encoding.eml',
    what: 'Content-Transfer-Encoding: x-uuencode',
    build: () =>
      utf8(
        lines(
          head('uuencode', ['Content-Type: text/plain', 'Content-Transfer-Encoding: x-uuencode']),
          '',
          'begin 644 file.txt',
          '%:&5L;&\\`',
          '`',
          'end',
        ),
      ),
    outcome: 'deliver',
    defects: ['unknown-transfer-encoding'],
  },
  {
    file: 'malformed/unknown-charset.eml',
    what: 'charset=x-klingon',
    build: () =>
      utf8(
        lines(
          head('klingon', ['Content-Type: text/plain; charset=x-klingon']),
          '',
          'nuqneH https://qo.example/',
        ),
      ),
    outcome: 'deliver',
    defects: ['unknown-charset'],
  },
  {
    file: 'malformed/utf7-charset.eml',
    what: 'charset=utf-7 hiding markup (refused, read as UTF-8)',
    build: () =>
      utf8(
        lines(
          head('utf-7', ['Content-Type: text/html; charset=utf-7']),
          '',
          '+ADw-script+AD4-alert(1)+ADw-/script+AD4-',
        ),
      ),
    outcome: 'deliver',
    defects: ['unknown-charset'],
  },
  {
    file: 'malformed/charset-mismatch.eml',
    what: 'Latin-1 bytes labelled UTF-8',
    build: () =>
      bin(
        lines(
          head('mismatch', ['Content-Type: text/plain; charset=utf-8']),
          '',
          'Gr\xfc\xdfe aus M\xfcnchen https://muenchen.example/',
        ),
      ),
    outcome: 'deliver',
  },
  {
    file: 'malformed/encoded-word-broken.eml',
    what: 'broken RFC 2047 encoded words in the Subject',
    build: () =>
      utf8(lines(head('=?utf-8?B?####?= =?unknown-cs?Q?abc?= =?utf-8?Q?unterminated'), '', 'body')),
    outcome: 'deliver',
  },
  {
    file: 'malformed/rfc2231-broken-filename.eml',
    what: 'RFC 2231 filename with broken continuations',
    build: () =>
      utf8(
        lines(
          head('rfc2231', ['Content-Type: multipart/mixed; boundary="r"']),
          '',
          '--r',
          "Content-Disposition: attachment; filename*0*=utf-8''%E2%82; filename*2=tail; filename*1*=%%%",
          'Content-Type: application/octet-stream',
          '',
          'data',
          '--r--',
        ),
      ),
    outcome: 'deliver',
  },
  {
    file: 'malformed/content-type-garbage.eml',
    what: 'Content-Type values that are not types',
    build: () =>
      utf8(
        lines(
          head('garbage type', ['Content-Type: ;;;=;"; boundary']),
          '',
          'body https://t.example/',
        ),
      ),
    outcome: 'deliver',
  },
  {
    file: 'malformed/message-rfc822-garbage.eml',
    what: 'message/rfc822 whose base64 content is binary garbage (NULs in its "header")',
    build: () =>
      utf8(
        lines(
          head('garbage inner', [
            'Content-Type: message/rfc822',
            'Content-Transfer-Encoding: base64',
          ]),
          '',
          Buffer.from([0, 1, 2, 255, 254, 10, 13, 0]).toString('base64'),
        ),
      ),
    outcome: 'quarantine:malformed',
    malformed: 'structure',
    defects: ['nul-in-header'],
  },

  // --- Malformed: NULs ------------------------------------------------------------------------
  {
    file: 'malformed/nul-in-subject.eml',
    what: 'a NUL inside the Subject',
    build: () => bin(lines(head('before\0after'), '', 'body')),
    outcome: 'quarantine:malformed',
    malformed: 'structure',
    defects: ['nul-in-header'],
    smtpRefused: 'nul',
  },
  {
    file: 'malformed/nul-in-body.eml',
    what: 'NULs in a text body',
    build: () => bin(lines(head('nul body'), '', 'text\0with\0nuls https://n.example/')),
    outcome: 'deliver',
    defects: ['nul-in-body'],
    smtpRefused: 'nul',
  },
  {
    file: 'malformed/nul-in-filename.eml',
    what: 'a NUL hiding the real extension of a file name',
    build: () =>
      bin(attachment('report.pdf\0.exe', 'application/octet-stream', fakeExe(), 'nul filename')),
    outcome: 'quarantine:malformed',
    malformed: 'structure',
    defects: ['nul-in-header'],
    smtpRefused: 'nul',
  },
  {
    file: 'malformed/nul-in-boundary.eml',
    what: 'a NUL in the boundary parameter',
    build: () =>
      bin(
        lines(
          head('nul boundary', ['Content-Type: multipart/mixed; boundary="a\0b"']),
          '',
          '--a\0b',
          'Content-Type: text/plain',
          '',
          'x',
          '--a\0b--',
        ),
      ),
    outcome: 'quarantine:malformed',
    malformed: 'structure',
    defects: ['nul-in-header'],
    smtpRefused: 'nul',
  },

  // --- Malformed: line endings ----------------------------------------------------------------
  {
    file: 'malformed/lf-only.eml',
    what: 'LF line endings throughout',
    build: () =>
      utf8(
        lines(head('lf only'), '', 'unix line endings https://lf.example/').replace(/\r\n/g, '\n'),
      ),
    outcome: 'deliver',
  },
  {
    file: 'malformed/mixed-line-endings.eml',
    what: 'CRLF header, LF body',
    build: () => utf8(`${lines(head('mixed endings'))}\r\nline one\nline two\r\nline three\n`),
    outcome: 'deliver',
    defects: ['bare-line-ending'],
  },
  {
    file: 'malformed/bare-cr.eml',
    what: 'bare CRs inside lines',
    build: () => utf8(lines(head('bare cr'), '', 'one\rtwo\rthree')),
    outcome: 'deliver',
    defects: ['bare-line-ending'],
  },
  {
    file: 'malformed/cr-cr-lf.eml',
    what: 'CR CR LF line endings: no line is empty, so the header never ends',
    build: () => utf8(lines(head('crcrlf'), '', 'a', 'b').replace(/\r\n/g, '\r\r\n')),
    outcome: 'quarantine:malformed',
    malformed: 'structure',
    defects: ['missing-header-separator', 'bare-line-ending'],
    smtpOutcome: 'deliver',
  },
  {
    file: 'malformed/multipart-lf-boundaries.eml',
    what: 'multipart whose boundaries end with bare LF',
    build: () =>
      utf8(
        lines(head('lf boundaries', ['Content-Type: multipart/mixed; boundary="lf"']), '').concat(
          '--lf\nContent-Type: text/plain\n\nlf part https://lfb.example/\n--lf--\n',
        ),
      ),
    outcome: 'deliver',
    defects: ['bare-line-ending'],
  },

  // --- Malformed: 8-bit headers ---------------------------------------------------------------
  {
    file: 'malformed/8bit-utf8-subject.eml',
    what: 'raw UTF-8 in the Subject without SMTPUTF8',
    build: () => utf8(lines(head('Grüße aus Köln 🎉'), '', 'body')),
    outcome: 'deliver',
    defects: ['eight-bit-header'],
  },
  {
    file: 'malformed/8bit-latin1-subject.eml',
    what: 'raw Latin-1 in the Subject',
    build: () => bin(lines(head('Caf\xe9 cr\xe8me br\xfbl\xe9e'), '', 'body')),
    outcome: 'deliver',
    defects: ['eight-bit-header'],
  },
  {
    file: 'malformed/8bit-display-name.eml',
    what: 'raw UTF-8 in the From display name',
    build: () =>
      utf8(
        lines(
          ['From: Zoë Ångström <zoe@sender.example>', 'To: bob@corp.example', 'Subject: hi', DATE],
          '',
          'body',
        ),
      ),
    outcome: 'deliver',
    defects: ['eight-bit-header'],
  },
  {
    file: 'malformed/8bit-filename.eml',
    what: 'raw 8-bit bytes in a file name',
    build: () =>
      bin(
        attachment(
          'r\xe9sum\xe9.pdf',
          'application/pdf',
          bin('%PDF-1.4\n%%EOF\n'),
          '8bit filename',
        ),
      ),
    outcome: 'deliver',
  },
  {
    file: 'malformed/8bit-field-name.eml',
    what: 'an 8-bit byte in a header field name',
    build: () => bin(lines(head('bad field name', ['X-B\xe4d: value']), '', 'body')),
    outcome: 'deliver',
    defects: ['invalid-header-line'],
  },

  // --- Malformed: structure -------------------------------------------------------------------
  {
    file: 'malformed/no-header-separator.eml',
    what: 'body lines directly after the header, no empty line',
    build: () =>
      utf8(
        lines(
          head('no separator'),
          'this is the body but there was no empty line https://sep.example/',
        ),
      ),
    outcome: 'quarantine:malformed',
    malformed: 'structure',
    defects: ['missing-header-separator'],
  },
  {
    file: 'malformed/header-only.eml',
    what: 'a header and nothing else',
    build: () => utf8(lines(head('header only'))),
    outcome: 'deliver',
  },
  {
    file: 'malformed/duplicate-from.eml',
    what: 'two From fields (DMARC sees one, the reader another)',
    build: () =>
      utf8(
        lines(
          [
            'From: boss@corp.example',
            'From: attacker@evil.example',
            'To: bob@corp.example',
            'Subject: two froms',
            DATE,
          ],
          '',
          'body',
        ),
      ),
    outcome: 'quarantine:malformed',
    malformed: 'structure',
    defects: ['duplicate-singleton-header'],
  },
  {
    file: 'malformed/missing-from.eml',
    what: 'no From field at all',
    build: () => utf8(lines(['To: bob@corp.example', 'Subject: anonymous', DATE], '', 'body')),
    outcome: 'deliver',
    defects: ['missing-from'],
  },
  {
    file: 'malformed/field-without-colon.eml',
    what: 'a header line without a colon',
    build: () => utf8(lines(head('no colon', ['This line has no colon']), '', 'body')),
    outcome: 'deliver',
    defects: ['invalid-header-line'],
  },
  {
    file: 'malformed/address-garbage.eml',
    what: 'unparseable address fields',
    build: () =>
      utf8(
        lines(
          [
            'From: <<<@@@>>>',
            'To: ;;;,,,"unterminated <',
            'Cc: @, a@, @b',
            'Subject: garbage addresses',
            DATE,
          ],
          '',
          'body',
        ),
      ),
    outcome: 'deliver',
    defects: ['invalid-address'],
  },
  {
    file: 'malformed/date-and-id-garbage.eml',
    what: 'a Date and Message-ID that are not what they say',
    build: () =>
      utf8(
        lines(
          [
            'From: a@sender.example',
            'To: bob@corp.example',
            'Subject: dates',
            'Date: yesterday-ish',
            'Message-ID: not an id at all <<<',
          ],
          '',
          'body',
        ),
      ),
    outcome: 'deliver',
  },
  {
    file: 'malformed/long-line-1mb.eml',
    what: 'a 1 MB line without line breaks',
    build: () => utf8(lines(head('long line'), '', 'x'.repeat(1024 * 1024))),
    outcome: 'deliver',
    smtpRefused: 'line-length',
  },
  {
    file: 'malformed/empty-body-attachment.eml',
    what: 'a zero-byte attachment and a part without headers',
    build: () =>
      utf8(
        lines(
          head('empty attachment', ['Content-Type: multipart/mixed; boundary="z"']),
          '',
          '--z',
          '',
          'part without headers',
          '--z',
          'Content-Type: application/octet-stream; name="empty.bin"',
          'Content-Transfer-Encoding: base64',
          '',
          '',
          '--z--',
        ),
      ),
    outcome: 'deliver',
  },
  {
    file: 'malformed/path-traversal-filename.eml',
    what: 'a file name with ../ path traversal',
    build: () =>
      utf8(
        attachment(
          '../../../../etc/cron.d/x',
          'text/plain',
          utf8('* * * * * root sh'),
          'traversal',
        ),
      ),
    outcome: 'deliver',
  },
  {
    file: 'malformed/long-filename-10kb.eml',
    what: 'a 10 KB file name',
    build: () =>
      utf8(attachment(`${'n'.repeat(10 * 1024)}.txt`, 'text/plain', utf8('data'), 'long filename')),
    outcome: 'deliver',
    smtpRefused: 'line-length',
  },

  // --- Malformed: archives and extraction limits ---------------------------------------------
  {
    file: 'malformed/zip-bomb.eml',
    what: 'a zip whose entries expand to 256 MB (decoded cap 100 MB)',
    build: () =>
      utf8(
        attachment(
          'bomb.zip',
          'application/zip',
          buildZip(
            Array.from({ length: 16 }, (_, i) => ({
              name: `layer${i}.bin`,
              data: Buffer.alloc(16 * 1024 * 1024),
            })),
          ),
          'zip bomb',
        ),
      ),
    outcome: 'quarantine:malformed',
    malformed: 'decoded-size',
  },
  {
    file: 'malformed/zip-truncated.eml',
    what: 'a zip cut in half',
    build: () => {
      const zip = buildZip([{ name: 'a.txt', data: utf8('hello '.repeat(100)) }])
      return utf8(
        attachment(
          'half.zip',
          'application/zip',
          zip.subarray(0, Math.floor(zip.length / 2)),
          'truncated zip',
        ),
      )
    },
    outcome: 'deliver',
    defects: ['archive-unreadable'],
  },
  {
    file: 'malformed/zip-3000-entries.eml',
    what: 'a zip with 3 000 entries (listing cap 1 000)',
    build: () =>
      utf8(
        attachment(
          'many.zip',
          'application/zip',
          buildZip(
            Array.from({ length: 3000 }, (_, i) => ({
              name: `f${i}.txt`,
              data: utf8(String(i)),
              store: true,
            })),
          ),
          'many entries',
        ),
      ),
    outcome: 'deliver',
    defects: ['archive-entries-truncated'],
  },
  {
    file: 'malformed/html-20000-links.eml',
    what: 'HTML with 20 000 distinct links (URL cap 1 000)',
    build: () =>
      utf8(
        lines(
          head('many links', ['Content-Type: text/html']),
          '',
          Array.from({ length: 20000 }, (_, i) => `<a href="https://l${i}.example/">${i}</a>`).join(
            '',
          ),
        ),
      ),
    outcome: 'deliver',
    defects: ['urls-truncated'],
    smtpRefused: 'line-length',
  },
  {
    file: 'malformed/html-deeply-nested.eml',
    what: 'HTML nested 50 000 elements deep',
    build: () =>
      utf8(
        lines(
          head('deep html', ['Content-Type: text/html']),
          '',
          `${'<div>'.repeat(50000)}<a href="https://deep.example/">x</a>${'</div>'.repeat(50000)}`,
        ),
      ),
    outcome: 'deliver',
    smtpRefused: 'line-length',
  },
  {
    file: 'malformed/html-hostile-urls.eml',
    what: 'javascript:, data: and credential-in-URL links',
    build: () =>
      utf8(
        lines(
          head('hostile urls', ['Content-Type: text/html']),
          '',
          '<a href="javascript:alert(1)">a</a><img src="data:image/png;base64,AAAA"><a href="https://paypal.example@evil.example/login">paypal.example</a><a href="hxxps://defanged[.]example/x">d</a>',
        ),
      ),
    outcome: 'quarantine:policy',
    verdicts: ['deceptive-link'],
  },
]
