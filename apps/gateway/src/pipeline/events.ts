/**
 * Timeline events written by the content pipeline and the quarantine (message tracking). The
 * names are stable: the console, the API and the hub's sightings read them.
 */
export const PIPELINE_EVENTS = {
  /** MIME analysis done: sizes, counts, defects, malformed reason. */
  ANALYSED: 'MESSAGE_ANALYSED',
  /** SPF, DKIM, DMARC and ARC results. */
  AUTHENTICATED: 'AUTH_RESULT',
  /** One per scanner: status, verdicts, score, findings, time, error. */
  SCANNED: 'SCANNER_RESULT',
  /** A scanner failure that defers processing (onFailure: tempfail). */
  SCAN_DEFERRED: 'SCAN_DEFERRED',
  /** Which policy applied to which recipients and which rules matched. */
  POLICY_MATCHED: 'POLICY_MATCHED',
  /** Per recipient: the final action and the modifications made. */
  ACTION: 'POLICY_ACTION',
  QUARANTINED: 'QUARANTINED',
  QUARANTINE_RELEASED: 'QUARANTINE_RELEASED',
  QUARANTINE_DELETED: 'QUARANTINE_DELETED',
  QUARANTINE_EXPIRED: 'QUARANTINE_EXPIRED',
  /** An outgoing policy blocked the sender (compromised account). */
  SENDER_BLOCKED: 'SENDER_BLOCKED',
  /** A policy added the sender to the block list (incoming). */
  SENDER_BLOCKLISTED: 'SENDER_BLOCKLISTED',
  NOTIFIED: 'NOTIFICATION_SENT',
} as const

/** One event on a message's timeline (the shape of the tracking store's NewEvent). */
export interface TimelineEvent {
  at: number
  event: string
  mid?: number | null
  recipient?: string | null
  details?: Record<string, unknown>
}

/** Where events written outside message processing go (the tracking writer). */
export interface EventSink {
  event(event: TimelineEvent): void
}
