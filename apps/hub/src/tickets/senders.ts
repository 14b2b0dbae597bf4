import { createHmac } from 'node:crypto'
import nodemailer from 'nodemailer'
import type { EmailTicketSettings, WebhookSettings } from './settings.js'

/** How a delivery ended: the receiver's reference for the ticket, or why it failed. */
export interface Delivery {
  ok: boolean
  attempts: number
  externalRef: string | null
  error: string | null
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`: the time is signed so a replay can be refused. */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')
  return `t=${unixSeconds},v1=${mac}`
}

/** The ticket system's id for the ticket, when its answer names one. */
function referenceIn(text: string): string | null {
  try {
    const body = JSON.parse(text) as Record<string, unknown>
    for (const key of ['id', 'key', 'number', 'ticket_id']) {
      const value = body[key]
      if (typeof value === 'string' || typeof value === 'number') return String(value).slice(0, 200)
    }
  } catch {
    // not JSON: the receiver names no reference
  }
  return null
}

/** 5xx, 408 and 429 (RFC 9110 §15.5.9, RFC 6585 §4) may succeed later; other 4xx will not. */
function retryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429
}

/**
 * POSTs a ticket: the same body and a fresh signature on every try, up to `max_attempts` tries
 * with exponential backoff; network errors and retryable statuses are tried again.
 */
export async function sendWebhook(
  settings: WebhookSettings,
  payload: unknown,
  ticketId: string,
  options: { now: () => number; sleep?: (ms: number) => Promise<void> },
): Promise<Delivery> {
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)))
  const body = JSON.stringify(payload)
  let error = 'not tried'
  for (let attempt = 1; attempt <= settings.max_attempts; attempt++) {
    if (attempt > 1) await sleep(settings.backoff_ms * 2 ** (attempt - 2))
    try {
      const response = await fetch(settings.url, {
        method: 'POST',
        headers: {
          ...settings.headers,
          'content-type': 'application/json',
          'user-agent': 'postern-hub',
          'x-postern-ticket-id': ticketId,
          'x-postern-signature': signWebhook(
            settings.secret,
            body,
            Math.floor(options.now() / 1000),
          ),
        },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(settings.timeout_ms),
      })
      const text = (await response.text()).slice(0, 64 * 1024)
      if (response.ok)
        return { ok: true, attempts: attempt, externalRef: referenceIn(text), error: null }
      error = `HTTP ${response.status}`
      if (!retryable(response.status))
        return { ok: false, attempts: attempt, externalRef: null, error }
    } catch (err) {
      error = err instanceof Error ? err.message : String(err)
    }
  }
  return { ok: false, attempts: settings.max_attempts, externalRef: null, error }
}

/** Mails a ticket to the IT desk through the configured SMTP server. */
export async function sendTicketMail(
  settings: EmailTicketSettings,
  mail: { subject: string; text: string; ticketId: string },
): Promise<Delivery> {
  const { smtp } = settings
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.security === 'tls',
    requireTLS: smtp.security === 'starttls',
    ignoreTLS: smtp.security === 'none',
    ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.password ?? '' } } : {}),
    connectionTimeout: 15_000,
  })
  try {
    const info = await transport.sendMail({
      from: settings.from,
      to: settings.to,
      subject: `${settings.subject_prefix} ${mail.subject}`.trim(),
      text: mail.text,
      headers: { 'X-Postern-Ticket-Id': mail.ticketId },
    })
    return { ok: true, attempts: 1, externalRef: info.messageId ?? null, error: null }
  } catch (err) {
    return {
      ok: false,
      attempts: 1,
      externalRef: null,
      error: err instanceof Error ? err.message : String(err),
    }
  } finally {
    transport.close()
  }
}
