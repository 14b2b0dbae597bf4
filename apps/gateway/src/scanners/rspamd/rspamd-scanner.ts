import type { RspamdConfig } from '../config.js'
import {
  skipped,
  type ScanContext,
  type ScanResult,
  type Scanner,
  type Verdict,
} from '../contract.js'
import { RspamdClient } from './rspamd-client.js'

/** Symbols kept on the timeline: the highest scoring ones are what explains a verdict. */
const MAX_SYMBOLS = 20

/**
 * Spam and phishing verdicts from rspamd. Its action maps to verdicts (`reject` → `spam`,
 * `add header`/`rewrite subject` → `suspect-spam` by default); its score and symbols are kept so
 * that policies can match on them and analysts can see why.
 */
export class RspamdScanner implements Scanner {
  readonly id = 'rspamd'
  readonly timeoutMs: number
  readonly onFailure: RspamdConfig['onFailure']
  readonly failureQuarantine: string
  private readonly client: RspamdClient

  constructor(private readonly config: RspamdConfig) {
    this.timeoutMs = config.timeout
    this.onFailure = config.onFailure
    this.failureQuarantine = config.failureQuarantine
    this.client = new RspamdClient(config.url, {
      password: config.password,
      maxSockets: config.maxConnections,
    })
  }

  async scan(context: ScanContext): Promise<ScanResult> {
    if (!this.config.directions.includes(context.direction)) return skipped('direction')
    if (context.raw.length > this.config.maxSize) return skipped('message larger than maxSize')
    const reply = await this.client.check(
      {
        ip: context.client.ip,
        helo: context.client.helo,
        hostname: context.client.rdns,
        from: context.envelope.mailFrom,
        recipients: context.envelope.recipients,
        queueId: String(context.mid),
        user: context.client.authUser,
        message: context.raw,
      },
      context.signal,
    )
    const verdicts: Verdict[] = []
    if (this.config.spamActions.includes(reply.action)) verdicts.push('spam')
    else if (this.config.suspectActions.includes(reply.action)) verdicts.push('suspect-spam')
    const symbols = [...reply.symbols].sort((a, b) => b.score - a.score).slice(0, MAX_SYMBOLS)
    return {
      status: verdicts.length > 0 ? 'fail' : 'pass',
      verdicts,
      score: reply.score,
      findings: symbols.map((s) => s.name),
      details: {
        action: reply.action,
        requiredScore: reply.requiredScore,
        symbols: symbols.map((s) => ({ name: s.name, score: s.score })),
        ...(reply.smtpMessage ? { message: reply.smtpMessage.slice(0, 200) } : {}),
      },
    }
  }

  async close(): Promise<void> {
    this.client.close()
  }
}
