import type { AuthResults } from '../auth/authenticate.js'
import type { MessageAnalysis } from '../pipeline/analysis/types.js'

/**
 * The one contract every scanner implements (rspamd, ClamAV, block lists, the built-in checks).
 * A scanner reports what it found as a status and verdict tags; what happens to the message is
 * decided later by the mail policies, which read these results (Haraka's `transaction.results`
 * pattern). A scanner never throws for something a message contains.
 */

/**
 * `pass`: looked and found nothing; `fail`: found something (see `verdicts`); `skip`: did not
 * look (disabled for this direction, message too large …); `error`: could not look.
 */
export type ScanStatus = 'pass' | 'fail' | 'skip' | 'error'

/** Verdict tags scanners can raise; policies match on them (`when: { verdict: spam }`). */
export const VERDICTS = [
  'spam',
  'suspect-spam',
  'virus',
  'blocked',
  'executable',
  'double-extension',
  'encrypted-archive',
  'macro',
  'credential-form',
  'deceptive-link',
  'shortened-url',
  'spoofed-display-name',
  'new-sender-domain',
  'malformed',
  'auth-fail',
] as const

export type Verdict = (typeof VERDICTS)[number]

/** What happens when a scanner errors or times out (per scanner, `onFailure`). */
export type FailurePolicy = 'tempfail' | 'skip' | 'quarantine'

export interface ScanResult {
  status: ScanStatus
  verdicts: Verdict[]
  /** Scanner score when it has one (rspamd). */
  score?: number
  /** Named findings (rspamd symbols, ClamAV signature names, matched block list entries). */
  findings?: string[]
  /** Anything else worth keeping on the timeline; small, JSON-safe. */
  details?: Record<string, unknown>
  /** For `error`: coded error and message. */
  error?: { code: string; message: string }
}

export type Direction = 'incoming' | 'outgoing'

export interface ScanContext {
  mid: number
  direction: Direction
  envelope: { mailFrom: string; recipients: readonly string[] }
  client: { ip: string; rdns: string | null; helo: string | null; authUser: string | null }
  /** The message as received. */
  raw: Buffer
  analysis: MessageAnalysis
  auth: AuthResults | null
  /** Aborted on timeout or shutdown: close sockets and return. */
  signal: AbortSignal
}

export interface Scanner {
  readonly id: string
  readonly timeoutMs: number
  readonly onFailure: FailurePolicy
  /** Quarantine a failure goes to when `onFailure` is `quarantine`. */
  readonly failureQuarantine: string
  scan(context: ScanContext): Promise<ScanResult>
  /** Releases connections and timers. */
  close?(): Promise<void>
}

export const PASS: ScanResult = Object.freeze({ status: 'pass', verdicts: [] }) as ScanResult

export function skipped(reason: string): ScanResult {
  return { status: 'skip', verdicts: [], details: { reason } }
}
