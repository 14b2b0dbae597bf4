import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A local stand-in for the few Microsoft identity platform and Graph calls remediation makes,
 * answering the way the real services document (the real ones are not reachable from tests):
 *
 * - `POST /{tenant}/oauth2/v2.0/token` (client credentials, form body) → `{access_token, expires_in}`
 *   or `400 {error: "invalid_client"}`;
 * - `GET /v1.0/users/{id}/mailFolders/deleteditems` → the folder, or `404 ErrorInvalidUser`;
 * - `GET /v1.0/users/{id}/messages?$filter=internetMessageId eq '…'` over all folders, paged
 *   with `@odata.nextLink` (page size from `$top`);
 * - `GET …/messages/{id}/$value` → MIME; `POST …/permanentDelete` → 204;
 *   `POST …/move {destinationId}` → 201 with the moved message (new id, as Exchange does);
 *   `DELETE …/messages/{id}` → 204 (to Deleted Items); `POST …/forward {toRecipients, comment}` → 202.
 *
 * Every Graph call needs the bearer token; `throttleEvery` answers 429 with Retry-After to every
 * Nth call, like Exchange Online's throttling.
 */
export interface GraphMessage {
  id: string
  folder: string
  internetMessageId: string
  mime: string
}

export interface GraphStandin {
  /** Authority base URL (`authorityUrl` setting). */
  authorityUrl: string
  /** Graph base URL (`graphUrl` setting). */
  graphUrl: string
  tenantId: string
  clientId: string
  clientSecret: string
  addMailbox(address: string): void
  deliver(address: string, internetMessageId: string, mime: string, folder?: string): GraphMessage
  messages(address: string): GraphMessage[]
  forwards: { mailbox: string; messageId: string; to: string[]; comment: string }[]
  requests: { method: string; path: string }[]
  throttleEvery: number
  /** Invalidates issued tokens: the next call gets 401 InvalidAuthenticationToken. */
  revokeTokens(): void
  close(): Promise<void>
}

export async function startGraphStandin(): Promise<GraphStandin> {
  const tenantId = 'contoso.onmicrosoft.com'
  const clientId = randomBytes(8).toString('hex')
  const clientSecret = randomBytes(16).toString('base64url')
  const tokens = new Set<string>()
  const mailboxes = new Map<string, GraphMessage[]>()
  const state = {
    forwards: [] as GraphStandin['forwards'],
    requests: [] as GraphStandin['requests'],
    throttleEvery: 0,
  }
  let calls = 0

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) =>
      send(res, 500, { error: { code: 'InternalServerError', message: String(err) } }),
    )
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const body = await readBody(req)
    state.requests.push({ method: req.method ?? '', path: decodeURIComponent(url.pathname) })

    const tokenPath = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname)
    if (tokenPath && req.method === 'POST') {
      const form = new URLSearchParams(body)
      if (decodeURIComponent(tokenPath[1] ?? '') !== tenantId) {
        return send(res, 400, {
          error: 'invalid_request',
          error_description: 'AADSTS90002: Tenant not found.',
        })
      }
      if (
        form.get('grant_type') !== 'client_credentials' ||
        form.get('scope') !== `${origin()}/.default`
      ) {
        return send(res, 400, {
          error: 'invalid_scope',
          error_description: 'AADSTS70011: The provided scope is invalid.',
        })
      }
      if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
        return send(res, 401, {
          error: 'invalid_client',
          error_description: 'AADSTS7000215: Invalid client secret provided.',
        })
      }
      const token = randomBytes(24).toString('base64url')
      tokens.add(token)
      return send(res, 200, {
        token_type: 'Bearer',
        expires_in: 3599,
        ext_expires_in: 3599,
        access_token: token,
      })
    }

    if (!url.pathname.startsWith('/v1.0/'))
      return send(res, 404, { error: { code: 'BadRequest', message: 'Invalid version.' } })
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')
    if (!auth || !tokens.has(auth[1] ?? '')) {
      return send(res, 401, {
        error: { code: 'InvalidAuthenticationToken', message: 'Access token is empty or invalid.' },
      })
    }
    calls++
    if (state.throttleEvery > 0 && calls % state.throttleEvery === 0) {
      res.setHeader('retry-after', '0')
      return send(res, 429, {
        error: {
          code: 'ApplicationThrottled',
          message: 'Application is over its MailboxConcurrency limit.',
        },
      })
    }

    const parts = url.pathname.slice('/v1.0/'.length).split('/').map(decodeURIComponent)
    if (parts[0] !== 'users' || !parts[1])
      return send(res, 400, { error: { code: 'BadRequest', message: 'Unsupported segment.' } })
    const box = mailboxes.get(parts[1].toLowerCase())
    if (!box) {
      return send(res, 404, {
        error: {
          code: 'ErrorInvalidUser',
          message: `The requested user '${parts[1]}' is invalid.`,
        },
      })
    }
    const rest = parts.slice(2)

    if (
      req.method === 'GET' &&
      rest[0] === 'mailFolders' &&
      rest[1]?.toLowerCase() === 'deleteditems'
    ) {
      return send(res, 200, { id: 'deleteditems-id' })
    }
    if (req.method === 'GET' && rest.length === 1 && rest[0] === 'messages') {
      const filter = url.searchParams.get('$filter') ?? ''
      const match = /^internetMessageId eq '((?:[^']|'')*)'$/.exec(filter)
      if (!match)
        return send(res, 400, {
          error: {
            code: 'ErrorInvalidUrlQueryFilter',
            message: 'The query filter contains one or more invalid nodes.',
          },
        })
      const wanted = (match[1] ?? '').replace(/''/g, "'")
      const top = Number(url.searchParams.get('$top') ?? '10')
      const skip = Number(url.searchParams.get('$skip') ?? '0')
      const all = box.filter((m) => m.internetMessageId === wanted)
      const page = all.slice(skip, skip + top)
      const next = new URL(url.toString())
      next.searchParams.set('$skip', String(skip + top))
      return send(res, 200, {
        '@odata.context': `${origin()}/v1.0/$metadata#users('${parts[1]}')/messages(id,parentFolderId,internetMessageId)`,
        value: page.map((m) => ({
          id: m.id,
          parentFolderId: m.folder === 'deleteditems' ? 'deleteditems-id' : m.folder,
          internetMessageId: m.internetMessageId,
        })),
        ...(skip + top < all.length
          ? { '@odata.nextLink': `${origin()}${next.pathname}${next.search}` }
          : {}),
      })
    }
    if (rest[0] === 'messages' && rest[1]) {
      const index = box.findIndex((m) => m.id === rest[1])
      const message = box[index]
      if (!message)
        return send(res, 404, {
          error: {
            code: 'ErrorItemNotFound',
            message: 'The specified object was not found in the store.',
          },
        })
      if (req.method === 'GET' && rest[2] === '$value') {
        res.writeHead(200, { 'content-type': 'text/plain' })
        return void res.end(message.mime)
      }
      if (req.method === 'DELETE' && rest.length === 2) {
        message.folder = 'deleteditems'
        res.writeHead(204)
        return void res.end()
      }
      if (req.method === 'POST' && rest[2] === 'permanentDelete') {
        box.splice(index, 1)
        res.writeHead(204)
        return void res.end()
      }
      if (req.method === 'POST' && rest[2] === 'move') {
        const destination = (JSON.parse(body) as { destinationId?: string }).destinationId
        if (!destination)
          return send(res, 400, {
            error: { code: 'ErrorInvalidIdMalformed', message: 'Id is malformed.' },
          })
        message.folder = destination.toLowerCase() === 'deleteditems' ? 'deleteditems' : destination
        message.id = newId()
        return send(res, 201, {
          id: message.id,
          parentFolderId: message.folder,
          internetMessageId: message.internetMessageId,
        })
      }
      if (req.method === 'POST' && rest[2] === 'forward') {
        const request = JSON.parse(body) as {
          comment?: string
          toRecipients?: { emailAddress?: { address?: string } }[]
        }
        const to = (request.toRecipients ?? []).map((r) => r.emailAddress?.address ?? '')
        if (to.length === 0 || to.some((a) => !a.includes('@'))) {
          return send(res, 400, {
            error: {
              code: 'ErrorInvalidRecipients',
              message: 'At least one recipient is not valid.',
            },
          })
        }
        state.forwards.push({
          mailbox: parts[1],
          messageId: message.internetMessageId,
          to,
          comment: request.comment ?? '',
        })
        res.writeHead(202)
        return void res.end()
      }
    }
    return send(res, 400, {
      error: { code: 'BadRequest', message: `Unsupported request ${req.method} ${url.pathname}` },
    })
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const origin = (): string => `http://127.0.0.1:${port}`

  return {
    authorityUrl: origin(),
    graphUrl: `${origin()}/v1.0`,
    tenantId,
    clientId,
    clientSecret,
    forwards: state.forwards,
    requests: state.requests,
    get throttleEvery() {
      return state.throttleEvery
    },
    set throttleEvery(n: number) {
      state.throttleEvery = n
    },
    addMailbox(address) {
      mailboxes.set(address.toLowerCase(), [])
    },
    deliver(address, internetMessageId, mime, folder = 'inbox') {
      const box = mailboxes.get(address.toLowerCase())
      if (!box) throw new Error(`no mailbox ${address}`)
      const message = { id: newId(), folder, internetMessageId, mime }
      box.push(message)
      return message
    },
    messages(address) {
      return [...(mailboxes.get(address.toLowerCase()) ?? [])]
    },
    revokeTokens() {
      tokens.clear()
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Graph message ids are long opaque base64url strings; these keep the same alphabet. */
function newId(): string {
  return `AAMk${randomBytes(30).toString('base64url')}=`
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; odata.metadata=minimal' })
  res.end(JSON.stringify(body))
}
