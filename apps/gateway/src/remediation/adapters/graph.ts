import { setTimeout as sleep } from 'node:timers/promises'
import { describeError } from '@postern/core'
import type { MailboxAdapter, MailboxHit, MailboxSession } from '../adapter.js'
import { gwErrors } from '../../errors.js'
import { bracketMessageId, normalizeMessageId, type MailboxAddress } from '../mailbox-address.js'
import type { GraphSettings } from '../profile-kinds.js'

/** Graph error codes that mean "this mailbox is not in the tenant" (not a failure of ours). */
const UNKNOWN_MAILBOX_CODES = new Set([
  'ErrorInvalidUser',
  'ResourceNotFound',
  'MailboxNotEnabledForRESTAPI',
  'ErrorNonExistentMailbox',
  'Request_ResourceNotFound',
])
/** Tries per Graph request when throttled (429) or the service is busy (503/504). */
const GRAPH_ATTEMPTS = 4
/** Refresh the token this long before Graph would reject it. */
const TOKEN_EARLY_REFRESH_MS = 60_000

interface GraphMessage {
  id: string
  parentFolderId?: string
  internetMessageId?: string
}

class GraphHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/**
 * Microsoft 365 remediation through Microsoft Graph with application permissions: an OAuth 2.0
 * client-credentials token (RFC 6749 §4.4) for `https://graph.microsoft.com/.default`, then
 * `GET /users/{mailbox}/messages?$filter=internetMessageId eq '…'` over all folders, and
 * `permanentDelete`, `move` (to Deleted Items), `$value` (MIME) or `forward` per message.
 * Throttling (429/503) is retried after the server's Retry-After.
 */
export class GraphAdapter implements MailboxAdapter {
  readonly kind = 'graph'
  readonly maxConnections: number
  private token: { value: string; expiresAt: number } | null = null
  private tokenRequest: Promise<string> | null = null

  constructor(
    readonly profile: string,
    private readonly settings: GraphSettings,
    private readonly clientSecret: string,
  ) {
    this.maxConnections = settings.maxConnections
  }

  async open(mailbox: MailboxAddress): Promise<MailboxSession> {
    const session = new GraphSession(this, mailbox.address, this.settings)
    await session.resolveDeletedItems()
    return session
  }

  async close(): Promise<void> {
    this.token = null
  }

  /** One Graph call with the app token; JSON in and out unless `raw`. */
  async call(
    method: string,
    path: string,
    options: { body?: unknown; raw?: boolean; mailbox: string; operation: string },
  ): Promise<{ status: number; json: unknown; bytes: Buffer }> {
    const url = path.startsWith('http')
      ? path
      : `${this.settings.graphUrl.replace(/\/$/, '')}${path}`
    let refreshed = false
    for (let attempt = 1; ; attempt++) {
      const token = await this.accessToken()
      let response: Response
      try {
        response = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: options.raw ? '*/*' : 'application/json',
            ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(this.settings.timeoutMs),
        })
      } catch (err) {
        if (attempt < GRAPH_ATTEMPTS) {
          await sleep(250 * 2 ** attempt)
          continue
        }
        throw gwErrors.REMEDIATION_MAILBOX_UNAVAILABLE(
          {
            mailbox: options.mailbox,
            profile: this.profile,
            reason: describeError(err),
            transient: true,
          },
          { cause: err },
        )
      }
      const bytes = Buffer.from(await response.arrayBuffer())
      if (response.status === 401 && !refreshed) {
        // The token may have been revoked or expired early: get a new one once.
        this.token = null
        refreshed = true
        continue
      }
      if (
        (response.status === 429 || response.status === 503 || response.status === 504) &&
        attempt < GRAPH_ATTEMPTS
      ) {
        await sleep(retryAfterMs(response.headers.get('retry-after'), attempt))
        continue
      }
      if (response.status >= 400) {
        const { code, message } = graphError(bytes, response.status)
        throw new GraphHttpError(response.status, code, message)
      }
      const json =
        !options.raw && bytes.length > 0 ? (JSON.parse(bytes.toString('utf8')) as unknown) : null
      return { status: response.status, json, bytes }
    }
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.expiresAt - TOKEN_EARLY_REFRESH_MS > Date.now())
      return this.token.value
    // Concurrent sessions share one token request.
    this.tokenRequest ??= this.requestToken().finally(() => {
      this.tokenRequest = null
    })
    return this.tokenRequest
  }

  private async requestToken(): Promise<string> {
    const url = `${this.settings.authorityUrl.replace(/\/$/, '')}/${encodeURIComponent(this.settings.tenantId)}/oauth2/v2.0/token`
    const scope = `${new URL(this.settings.graphUrl).origin}/.default`
    let response: Response
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: this.settings.clientId,
          client_secret: this.clientSecret,
          scope,
        }),
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      })
    } catch (err) {
      throw gwErrors.REMEDIATION_GRAPH_AUTH_FAILED(
        { profile: this.profile, reason: describeError(err), transient: true },
        { cause: err },
      )
    }
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: string
      expires_in?: number
      error?: string
      error_description?: string
    }
    if (!response.ok || !body.access_token) {
      throw gwErrors.REMEDIATION_GRAPH_AUTH_FAILED({
        profile: this.profile,
        reason:
          `${response.status} ${body.error ?? ''} ${(body.error_description ?? '').split('\n')[0]}`.trim(),
      })
    }
    this.token = {
      value: body.access_token,
      expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000,
    }
    return body.access_token
  }
}

class GraphSession implements MailboxSession {
  private deletedItemsId: string | null = null
  private readonly base: string
  readonly forward?: MailboxSession['forward']
  readonly profile: string

  constructor(
    private readonly adapter: GraphAdapter,
    private readonly mailbox: string,
    private readonly settings: GraphSettings,
  ) {
    this.base = `/users/${encodeURIComponent(mailbox)}`
    this.profile = adapter.profile
    if (settings.forwardVia === 'graph') {
      this.forward = async (hit, to, comment) => {
        await this.call(
          'POST',
          `${this.base}/messages/${encodeURIComponent(hit.ref)}/forward`,
          'forward',
          false,
          { comment, toRecipients: to.map((address) => ({ emailAddress: { address } })) },
        )
      }
    }
  }

  /** Opening a mailbox = learning its Deleted Items folder id, which also proves it exists. */
  async resolveDeletedItems(): Promise<void> {
    const { json } = await this.call(
      'GET',
      `${this.base}/mailFolders/deleteditems?$select=id`,
      'open',
    )
    this.deletedItemsId = (json as { id?: string }).id ?? null
  }

  async find(messageId: string): Promise<MailboxHit[]> {
    // OData string literals escape a quote by doubling it (OData 4.01 ABNF, SQUOTE-in-string).
    const literal = bracketMessageId(messageId).replace(/'/g, "''")
    const query = new URLSearchParams({
      $filter: `internetMessageId eq '${literal}'`,
      $select: 'id,parentFolderId,internetMessageId',
      $top: '100',
    })
    const wanted = normalizeMessageId(messageId)
    const hits: MailboxHit[] = []
    let next: string | null = `${this.base}/messages?${query.toString()}`
    while (next) {
      const { json } = await this.call('GET', next, 'search')
      const page = json as { value?: GraphMessage[]; '@odata.nextLink'?: string }
      for (const message of page.value ?? []) {
        if (normalizeMessageId(message.internetMessageId ?? '') !== wanted) continue
        if (this.settings.deleteMode === 'trash' && message.parentFolderId === this.deletedItemsId)
          continue
        hits.push({ folder: message.parentFolderId ?? '', ref: message.id })
      }
      next = page['@odata.nextLink'] ?? null
    }
    return hits
  }

  async fetchRaw(hit: MailboxHit, maxBytes: number): Promise<Buffer> {
    const { bytes } = await this.call(
      'GET',
      `${this.base}/messages/${encodeURIComponent(hit.ref)}/$value`,
      'fetch MIME',
      true,
    )
    if (bytes.length > maxBytes) {
      throw gwErrors.REMEDIATION_MESSAGE_TOO_LARGE({
        mailbox: this.mailbox,
        size: bytes.length,
        limit: maxBytes,
      })
    }
    return bytes
  }

  async delete(hits: MailboxHit[]): Promise<void> {
    for (const hit of hits) {
      const path = `${this.base}/messages/${encodeURIComponent(hit.ref)}`
      try {
        if (this.settings.deleteMode === 'trash') {
          await this.call('POST', `${path}/move`, 'move to Deleted Items', false, {
            destinationId: 'deleteditems',
          })
        } else {
          await this.call('POST', `${path}/permanentDelete`, 'permanent delete')
        }
      } catch (err) {
        // Already gone (a user or an earlier attempt deleted it): the goal is reached.
        if (isAppErrorWithStatus(err, 404)) continue
        throw err
      }
    }
  }

  async close(): Promise<void> {}

  private async call(method: string, path: string, operation: string, raw = false, body?: unknown) {
    try {
      return await this.adapter.call(method, path, { raw, body, mailbox: this.mailbox, operation })
    } catch (err) {
      if (!(err instanceof GraphHttpError)) throw err
      if (operation === 'open' && (err.status === 404 || UNKNOWN_MAILBOX_CODES.has(err.code))) {
        throw gwErrors.REMEDIATION_MAILBOX_UNKNOWN({
          mailbox: this.mailbox,
          profile: this.adapter.profile,
          reason: `${err.code}: ${err.message}`,
        })
      }
      throw gwErrors.REMEDIATION_BACKEND_FAILED(
        {
          operation,
          mailbox: this.mailbox,
          reason: `${err.status} ${err.code}: ${err.message}`,
          transient: err.status >= 500 || err.status === 429,
          httpStatus: err.status,
        },
        { cause: err },
      )
    }
  }
}

function isAppErrorWithStatus(err: unknown, status: number): boolean {
  return (err as { params?: { httpStatus?: number } }).params?.httpStatus === status
}

function graphError(bytes: Buffer, status: number): { code: string; message: string } {
  try {
    const body = JSON.parse(bytes.toString('utf8')) as {
      error?: { code?: string; message?: string }
    }
    return { code: body.error?.code ?? `HTTP${status}`, message: body.error?.message ?? '' }
  } catch {
    return { code: `HTTP${status}`, message: bytes.toString('utf8').slice(0, 200) }
  }
}

/** Retry-After is seconds or an HTTP date (RFC 9110 §10.2.3); capped so a run cannot stall. */
function retryAfterMs(header: string | null, attempt: number): number {
  const fallback = 500 * 2 ** attempt
  if (!header) return fallback
  const seconds = Number(header)
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now()
  return Math.min(Math.max(ms, 0), 30_000) || fallback
}
