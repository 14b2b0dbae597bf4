import type { BuiltinChecksConfig } from '../config.js'
import {
  PASS,
  skipped,
  type ScanContext,
  type ScanResult,
  type Scanner,
  type Verdict,
} from '../contract.js'

/**
 * Credential-phishing hints read from the analysis: HTML forms that ask for a password or
 * similar secret, links whose visible text names another site than their target, and links
 * through URL shorteners (which hide the destination from the reader and from block lists).
 */
export class PhishingCheck implements Scanner {
  readonly id = 'phishing'
  readonly timeoutMs = 5_000
  readonly onFailure = 'skip' as const
  readonly failureQuarantine = 'policy'
  private readonly shorteners: Set<string>

  constructor(private readonly config: BuiltinChecksConfig['phishing']) {
    this.shorteners = new Set(config.shortenerDomains.map((d) => d.toLowerCase()))
  }

  async scan(context: ScanContext): Promise<ScanResult> {
    if (!this.config.enabled) return skipped('disabled')
    const { forms, deceptiveLinks, urls } = context.analysis
    const verdicts: Verdict[] = []
    const findings: string[] = []
    if (forms.length > 0) {
      verdicts.push('credential-form')
      for (const form of forms.slice(0, 10)) {
        findings.push(`form posting to ${form.action ?? '(script)'} asks for a secret`)
      }
    }
    if (deceptiveLinks.length > 0) {
      verdicts.push('deceptive-link')
      for (const link of deceptiveLinks.slice(0, 10)) {
        findings.push(`link shows ${link.shownDomain} but goes to ${link.url}`)
      }
    }
    const shortened = urls.filter(
      (u) => this.shorteners.has(u.domain) || this.shorteners.has(u.host),
    )
    if (shortened.length > 0) {
      verdicts.push('shortened-url')
      for (const u of shortened.slice(0, 10)) findings.push(`shortened link ${u.url}`)
    }
    if (verdicts.length === 0) return PASS
    return { status: 'fail', verdicts, findings }
  }
}
