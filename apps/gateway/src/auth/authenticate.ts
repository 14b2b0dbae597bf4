import { authenticate, type DNSResolver } from 'mailauth'
import type { DnsResolve } from './caching-resolver.js'

/** RFC 8601 result values (the union over SPF, DKIM, DMARC and ARC). */
export type AuthResultValue =
  'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror' | 'policy'

export interface DkimSignatureResult {
  domain: string
  selector: string | null
  result: AuthResultValue
  /** Aligned with the header From domain (RFC 7489 §3.1.1). */
  aligned: boolean
  comment: string | null
}

export interface AuthResults {
  spf: { result: AuthResultValue; domain: string | null; comment: string | null }
  dkim: { result: AuthResultValue; signatures: DkimSignatureResult[] }
  dmarc: {
    result: AuthResultValue
    domain: string | null
    /** The policy the domain owner asks for when DMARC fails (`p=`, or `sp=` for subdomains). */
    policy: 'none' | 'quarantine' | 'reject' | null
    comment: string | null
  }
  arc: { result: AuthResultValue; comment: string | null }
  /** `Authentication-Results:` (RFC 8601) and `Received-SPF:` (RFC 7208 §9.1) lines, CRLF-ended. */
  headers: string
  /** True when the checks gave up on their time budget (results are temperror). */
  timedOut: boolean
}

export interface AuthInput {
  /** SMTP client IP address. */
  ip: string
  /** EHLO/HELO name. */
  helo: string | null
  /** MAIL FROM address, `''` for the null reverse-path. */
  sender: string
}

export interface AuthOptions {
  /** authserv-id written into Authentication-Results (RFC 8601 §2.5): this gateway's host name. */
  authservId: string
  resolver: DnsResolve
  /** Smallest RSA key accepted for DKIM/ARC (RFC 8301 §3.2 says 1024). */
  minKeyBits: number
  arc: boolean
  dmarc: boolean
  /** Whole-check budget; beyond it the results are temperror (DNS timeouts are per query). */
  timeoutMs: number
}

const KNOWN_RESULTS = new Set<string>([
  'pass',
  'fail',
  'softfail',
  'neutral',
  'none',
  'temperror',
  'permerror',
  'policy',
])

function normaliseResult(value: string | undefined): AuthResultValue {
  if (value === 'temperr') return 'temperror'
  return value && KNOWN_RESULTS.has(value) ? (value as AuthResultValue) : 'none'
}

function comment(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, 300) : null
}

/**
 * SPF (RFC 7208), DKIM (RFC 6376), DMARC (RFC 7489) and ARC (RFC 8617) with mailauth, summed up
 * for policies and tracking, plus the header lines to add to the delivered message. BIMI is not
 * checked: it fetches logos over HTTPS, which a gateway has no business doing per message.
 */
export async function authenticateMessage(
  raw: Buffer,
  input: AuthInput,
  options: AuthOptions,
): Promise<AuthResults> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs)
  })
  try {
    const outcome = await Promise.race([
      authenticate(raw, {
        ip: input.ip,
        helo: input.helo ?? undefined,
        sender: input.sender,
        mta: options.authservId,
        resolver: options.resolver as DNSResolver,
        minBitLength: options.minKeyBits,
        disableArc: !options.arc,
        disableDmarc: !options.dmarc,
        disableBimi: true,
      }),
      timeout,
    ])
    if (outcome === 'timeout') return timedOutResults(options.authservId)
    return summarise(outcome)
  } finally {
    clearTimeout(timer)
  }
}

type MailauthOutcome = Awaited<ReturnType<typeof authenticate>>

function summarise(outcome: MailauthOutcome): AuthResults {
  // mailauth reports an unsigned message as one result without a signing domain.
  const signed = (outcome.dkim?.results ?? []).filter((r) => Boolean(r.signingDomain))
  const signatures: DkimSignatureResult[] = signed.map((r) => ({
    domain: (r.signingDomain ?? '').toLowerCase(),
    selector: r.selector ?? null,
    result: normaliseResult(r.status?.result),
    aligned: Boolean(r.status?.aligned),
    comment: comment(r.status?.comment),
  }))
  const spf = outcome.spf || undefined
  const dmarc = outcome.dmarc || undefined
  const arc = outcome.arc || undefined
  const policy = dmarc?.policy
  return {
    spf: {
      result: normaliseResult(spf?.status?.result),
      domain: spf?.domain ?? null,
      comment: comment(spf?.status?.comment),
    },
    dkim: { result: overallDkim(signatures), signatures },
    dmarc: {
      result: normaliseResult(dmarc?.status?.result),
      domain: dmarc?.domain ?? null,
      policy: policy === 'none' || policy === 'quarantine' || policy === 'reject' ? policy : null,
      comment: comment(dmarc?.status?.comment),
    },
    arc: { result: normaliseResult(arc?.status?.result), comment: comment(arc?.status?.comment) },
    headers: outcome.headers,
    timedOut: false,
  }
}

/** The best single DKIM verdict: any passing signature wins, then the most telling failure. */
function overallDkim(signatures: DkimSignatureResult[]): AuthResultValue {
  if (signatures.length === 0) return 'none'
  for (const wanted of ['pass', 'fail', 'temperror', 'permerror', 'policy', 'neutral'] as const) {
    if (signatures.some((s) => s.result === wanted)) return wanted
  }
  return 'none'
}

function timedOutResults(authservId: string): AuthResults {
  const reason = 'authentication checks timed out'
  return {
    spf: { result: 'temperror', domain: null, comment: reason },
    dkim: { result: 'temperror', signatures: [] },
    dmarc: { result: 'temperror', domain: null, policy: null, comment: reason },
    arc: { result: 'temperror', comment: reason },
    headers: `Authentication-Results: ${authservId};\r\n spf=temperror; dkim=temperror; dmarc=temperror (${reason})\r\n`,
    timedOut: true,
  }
}
