import { describeError, type Logger } from '@postern/core'
import type { Transporter } from 'nodemailer'
import type { Watch, WatchSighting } from '@postern/store'
import { internalTargetReason } from './webhook-target.js'

/** What every notification channel receives when a watched observable is seen. */
export interface WatchNotification {
  orgId: string
  watch: Watch
  sighting: Omit<WatchSighting, 'id'>
  /** Incident the sighting opened or joined, when the watch asks for one. */
  incidentId: string | null
}

export type NotificationChannel = 'console' | 'webhook' | 'email'

export interface NotificationOutcome {
  channel: NotificationChannel
  ok: boolean
  error?: string
}

/** JSON body of webhook notifications (documented in docs/api.md). */
export function webhookPayload(n: WatchNotification): Record<string, unknown> {
  return {
    event: 'watch.sighting',
    org_id: n.orgId,
    watch: { id: n.watch.id, observable: n.watch.observable, note: n.watch.note },
    sighting: {
      observed_at: new Date(n.sighting.observedAt).toISOString(),
      device_id: n.sighting.deviceId,
      message_ref: n.sighting.messageRef,
      message_id: n.sighting.messageId,
      details: n.sighting.details,
    },
    incident_id: n.incidentId,
  }
}

/**
 * POSTs the notification as JSON to the watch's webhook, with a timeout; a slow or failing
 * receiver is logged and never holds up the gateway event that triggered it.
 */
export async function sendWebhook(
  url: string,
  n: WatchNotification,
  options: { timeoutMs: number; allowInternal?: boolean; fetchImpl?: typeof fetch },
): Promise<void> {
  if (!options.allowInternal) {
    const reason = await internalTargetReason(url)
    if (reason) throw new Error(reason)
  }
  const response = await (options.fetchImpl ?? fetch)(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-postern-event': 'watch.sighting' },
    body: JSON.stringify(webhookPayload(n)),
    signal: AbortSignal.timeout(options.timeoutMs),
    redirect: 'error',
  })
  // Drain the body so the connection is released.
  await response.arrayBuffer().catch(() => undefined)
  if (!response.ok) throw new Error(`webhook answered HTTP ${response.status}`)
}

/** Plain-text mail; nothing attacker-controlled goes in a header except inside the subject text. */
export async function sendEmail(
  transport: Transporter,
  from: string,
  to: string,
  n: WatchNotification,
): Promise<void> {
  const observable = `${n.watch.observable.type} ${n.watch.observable.value}`
  const lines = [
    `A gateway saw a watched observable: ${observable}.`,
    '',
    `When:        ${new Date(n.sighting.observedAt).toISOString()}`,
    `Gateway:     ${n.sighting.deviceId}`,
    `Message ref: ${n.sighting.messageRef}`,
    `Message-ID:  ${n.sighting.messageId ?? '(none)'}`,
  ]
  if (n.watch.note) lines.push(`Watch note:  ${n.watch.note}`)
  if (n.incidentId) lines.push(`Incident:    ${n.incidentId}`)
  await transport.sendMail({
    from,
    to,
    // nodemailer encodes the subject (RFC 2047) and strips line breaks, so a hostile value
    // cannot add headers.
    subject: `[Postern] Watched ${observable.slice(0, 200)} seen`,
    text: lines.join('\n'),
  })
}

export interface WatchNotifierOptions {
  logger: Logger
  webhookTimeoutMs?: number
  /**
   * Let webhooks reach loopback, private and link-local addresses (a receiver on the hub's own
   * network). Off by default: see webhook-target.ts.
   */
  allowInternalWebhooks?: boolean
  /** Mail transport and sender for e-mail notifications; without it they are skipped. */
  mail?: { transport: Transporter; from: string }
  /** Console delivery: the hub's live event stream (SSE/WebSocket) to the analysts' consoles. */
  console?: (n: WatchNotification) => void
  fetchImpl?: typeof fetch
}

/** Sends a sighting notification to every channel the watch asks for. */
export class WatchNotifier {
  constructor(private readonly options: WatchNotifierOptions) {}

  async notify(n: WatchNotification): Promise<NotificationOutcome[]> {
    const tasks: Promise<NotificationOutcome>[] = []
    if (n.watch.notify.console && this.options.console) {
      const deliver = this.options.console
      tasks.push(this.attempt('console', n, async () => deliver(n)))
    }
    if (n.watch.notify.webhook) {
      const url = n.watch.notify.webhook
      tasks.push(
        this.attempt('webhook', n, () =>
          sendWebhook(url, n, {
            timeoutMs: this.options.webhookTimeoutMs ?? 5000,
            allowInternal: this.options.allowInternalWebhooks ?? false,
            ...(this.options.fetchImpl ? { fetchImpl: this.options.fetchImpl } : {}),
          }),
        ),
      )
    }
    if (n.watch.notify.email) {
      const to = n.watch.notify.email
      const mail = this.options.mail
      tasks.push(
        mail
          ? this.attempt('email', n, () => sendEmail(mail.transport, mail.from, to, n))
          : Promise.resolve({ channel: 'email', ok: false, error: 'no mail transport configured' }),
      )
    }
    return Promise.all(tasks)
  }

  private async attempt(
    channel: NotificationChannel,
    n: WatchNotification,
    send: () => Promise<void>,
  ): Promise<NotificationOutcome> {
    try {
      await send()
      return { channel, ok: true }
    } catch (err) {
      const error = describeError(err)
      this.options.logger.warn(
        { event: 'WATCH_NOTIFY_FAILED', channel, orgId: n.orgId, watchId: n.watch.id, error },
        'watch notification failed',
      )
      return { channel, ok: false, error }
    }
  }
}
