import type { Direction } from '@postern/store'
import type { SmtpReplyKey } from './replies.js'

/**
 * SMTP-time policy: consulted at MAIL FROM and at every RCPT TO that the HAT and RAT already
 * allow, so that block lists (senders, domains, compromised users pushed from the hub) refuse
 * with a coded 5xx before any data is transferred. Several policies run in the order they
 * were added; the first refusal wins. A policy that throws makes the command fail temporarily
 * (`451 4.7.1`): the gateway fails closed, never open.
 */
export interface SessionPolicy {
  /** Shown in logs and tracking events. */
  readonly name: string
  checkMailFrom?(request: MailFromRequest): PolicyDecision | Promise<PolicyDecision>
  checkRcptTo?(request: RcptToRequest): PolicyDecision | Promise<PolicyDecision>
}

export interface PolicySession {
  icid: number
  mid: number
  listener: string
  clientIp: string
  clientRdns: string | null
  helo: string | null
  senderGroup: string | null
  direction: Direction
  authUser: string | null
}

export interface MailFromRequest {
  session: PolicySession
  /** '' for the null sender. */
  mailFrom: string
}

export interface RcptToRequest {
  session: PolicySession
  mailFrom: string
  recipient: string
}

export type PolicyDecision =
  | { verdict: 'continue' }
  | {
      verdict: 'reject'
      /** A refusal reply of `smtp/replies.ts` (e.g. SENDER_BLOCKED, RECIPIENT_BLOCKED). */
      reply: Extract<
        SmtpReplyKey,
        | 'SENDER_BLOCKED'
        | 'SENDER_DOMAIN_BLOCKED'
        | 'CLIENT_BLOCKED'
        | 'USER_BLOCKED'
        | 'RECIPIENT_BLOCKED'
        | 'RELAY_DENIED'
      >
      /** Why, for logs and tracking (e.g. `blocklist:sender:evil@example.com`). Never sent. */
      reason: string
    }

export const CONTINUE: PolicyDecision = Object.freeze({ verdict: 'continue' })

/** The default: allows everything the HAT and RAT allow. */
export const allowAllPolicy: SessionPolicy = { name: 'allow-all' }
