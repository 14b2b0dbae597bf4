import type { SmtpReplyKey } from './replies.js'

/** What the watchdog needs to know about one connection. */
export interface WatchedSession {
  /** When the last complete command arrived (or the greeting was sent). */
  readonly lastCommandAt: number
  /** Set while the client sends message data: when DATA began and how many bytes arrived. */
  readonly data: { startedAt: number; bytes: number } | undefined
  /** The client waits for us (a handler or the spool decides): no deadline runs. */
  readonly waitingForServer: boolean
}

export interface WatchdogLimits {
  /** Longest wait for a complete command line, however many bytes trickle in. */
  commandTimeoutMs: number
  /** Least average rate of message data, in bytes per second, once `dataRateGraceMs` passed. */
  dataRateFloor: number
  dataRateGraceMs: number
}

/**
 * The deadlines the socket's idle timeout cannot enforce. The idle timer restarts on every
 * byte, so a client that sends one byte every few seconds (slowloris) would hold its
 * connection — and a slot of `maxConnections` — forever. RFC 5321 §4.5.3.2 gives each command
 * and the data phase an overall time; these are that, as a deadline per command and a floor on
 * the average data rate.
 */
export function overdue(
  session: WatchedSession,
  now: number,
  limits: WatchdogLimits,
): SmtpReplyKey | undefined {
  if (session.waitingForServer) return undefined
  const data = session.data
  if (data) {
    const elapsed = now - data.startedAt
    if (limits.dataRateFloor > 0 && elapsed >= limits.dataRateGraceMs) {
      const rate = data.bytes / (elapsed / 1_000)
      if (rate < limits.dataRateFloor) return 'DATA_TOO_SLOW'
    }
    return undefined
  }
  if (now - session.lastCommandAt >= limits.commandTimeoutMs) return 'COMMAND_TIMEOUT'
  return undefined
}
