/**
 * The demo's sample mail: a few messages that show what the gateway does with clean mail,
 * credential phishing, a dangerous attachment and a phishing campaign that gets through (and is
 * then pulled back out of the mailboxes). Written here, not copied from anywhere.
 */
export interface SampleMessage {
  /** What the message demonstrates, printed next to its outcome. */
  label: string
  from: string
  to: string[]
  raw: string
}

export const DEMO_DOMAIN = 'example.com'

/** The URL of the campaign that is delivered first and remediated afterwards. */
export const CAMPAIGN_URL = 'https://bit.ly/3Dq9Xa2'

/** Where the credential phish's deceptive link really goes. */
export const CREDENTIAL_PHISH_URL = 'https://bit.ly/3Qx7Bnk'

/** The demo's phishing observables, kept in a casebook on the hub. */
export const PHISHING_OBSERVABLES: readonly { type: string; value: string }[] = [
  { type: 'url', value: CREDENTIAL_PHISH_URL },
  { type: 'email', value: 'security@bank-alerts.example' },
  { type: 'domain', value: 'bank-alerts.example' },
  { type: 'url', value: CAMPAIGN_URL },
  { type: 'email', value: 'shares@docs-share.example' },
  { type: 'domain', value: 'docs-share.example' },
]

function message(headers: Record<string, string>, body: string): string {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`)
  return `${lines.join('\r\n')}\r\n\r\n${body.replace(/\r?\n/g, '\r\n')}\r\n`
}

function date(): string {
  return new Date().toUTCString().replace('GMT', '+0000')
}

let counter = 0
function messageId(domain: string): string {
  counter += 1
  return `<demo.${Date.now().toString(36)}.${counter}@${domain}>`
}

export function cleanNewsletter(): SampleMessage {
  return {
    label: 'clean newsletter',
    from: 'news@partner.example',
    to: [`alice@${DEMO_DOMAIN}`],
    raw: message(
      {
        From: '"Partner News" <news@partner.example>',
        To: `alice@${DEMO_DOMAIN}`,
        Subject: 'Quarterly partner update',
        'Message-ID': messageId('partner.example'),
        Date: date(),
        'MIME-Version': '1.0',
        'Content-Type': 'text/plain; charset=utf-8',
      },
      'Hello Alice,\n\nOur quarterly update is ready. Nothing to click, just good news.\n\nThe Partner team',
    ),
  }
}

export function credentialPhish(): SampleMessage {
  return {
    label: 'credential phishing (deceptive link)',
    from: 'security@bank-alerts.example',
    to: [`bob@${DEMO_DOMAIN}`],
    raw: message(
      {
        From: '"Bank Security" <security@bank-alerts.example>',
        To: `bob@${DEMO_DOMAIN}`,
        Subject: 'Unusual sign-in activity',
        'Message-ID': messageId('bank-alerts.example'),
        Date: date(),
        'MIME-Version': '1.0',
        'Content-Type': 'text/html; charset=utf-8',
      },
      '<p>We blocked a sign-in. Confirm your identity within 24 hours:</p>\n' +
        `<p><a href="${CREDENTIAL_PHISH_URL}">https://www.mybank.example/secure/login</a></p>`,
    ),
  }
}

export function dangerousAttachment(): SampleMessage {
  const boundary = 'demo-boundary-1'
  const payload = Buffer.from('MZ demo executable, harmless bytes').toString('base64')
  return {
    label: 'executable disguised as a PDF',
    from: 'billing@supplier.example',
    to: [`carol@${DEMO_DOMAIN}`],
    raw: message(
      {
        From: '"Supplier Billing" <billing@supplier.example>',
        To: `carol@${DEMO_DOMAIN}`,
        Subject: 'Invoice 2026-1107',
        'Message-ID': messageId('supplier.example'),
        Date: date(),
        'MIME-Version': '1.0',
        'Content-Type': `multipart/mixed; boundary="${boundary}"`,
      },
      `--${boundary}\nContent-Type: text/plain; charset=utf-8\n\nPlease find the invoice attached.\n` +
        `--${boundary}\nContent-Type: application/octet-stream; name="invoice.pdf.exe"\n` +
        `Content-Disposition: attachment; filename="invoice.pdf.exe"\nContent-Transfer-Encoding: base64\n\n` +
        `${payload}\n--${boundary}--`,
    ),
  }
}

/** A campaign whose link looks ordinary, so it is delivered; the demo then remediates it. */
export function deliveredCampaign(): SampleMessage {
  return {
    label: 'phishing campaign that got through',
    from: 'shares@docs-share.example',
    to: [`alice@${DEMO_DOMAIN}`, `carol@${DEMO_DOMAIN}`],
    raw: message(
      {
        From: '"Document Share" <shares@docs-share.example>',
        To: `alice@${DEMO_DOMAIN}, carol@${DEMO_DOMAIN}`,
        Subject: 'A document was shared with you',
        'Message-ID': messageId('docs-share.example'),
        Date: date(),
        'MIME-Version': '1.0',
        'Content-Type': 'text/plain; charset=utf-8',
      },
      `A document was shared with you. Open it here: ${CAMPAIGN_URL}\n`,
    ),
  }
}

/** Hostile text in the places a console shows: it must always be displayed as text. */
export function hostileSubject(): SampleMessage {
  return {
    label: 'hostile subject and display name (shown as text everywhere)',
    from: 'prankster@markup.example',
    to: [`bob@${DEMO_DOMAIN}`],
    raw: message(
      {
        From: '"<script>alert(1)</script> Prankster" <prankster@markup.example>',
        To: `bob@${DEMO_DOMAIN}`,
        Subject: 'Hello <img src=x onerror=alert(1)> friend',
        'Message-ID': messageId('markup.example'),
        Date: date(),
        'MIME-Version': '1.0',
        'Content-Type': 'text/plain; charset=utf-8',
      },
      'Just text.',
    ),
  }
}

/** The first batch, in the order it is sent. */
export function initialSamples(): SampleMessage[] {
  return [
    cleanNewsletter(),
    credentialPhish(),
    dangerousAttachment(),
    deliveredCampaign(),
    hostileSubject(),
  ]
}

/** What keeps flowing while the demo runs: mostly clean mail, sometimes a threat. */
export function trafficSample(tick: number): SampleMessage {
  const rotation = [
    cleanNewsletter,
    cleanNewsletter,
    credentialPhish,
    cleanNewsletter,
    dangerousAttachment,
  ]
  return (rotation[tick % rotation.length] as () => SampleMessage)()
}
