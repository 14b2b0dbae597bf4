import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { z } from 'zod'
import { describeError } from '@postern/core'

/** One doveadm command: name, parameters, and the tag its answer comes back with. */
export type DoveadmCommand = [name: string, parameters: Record<string, unknown>, tag: string]

/** The answer to one command: its rows, or the doveadm exit code it failed with. */
export type DoveadmResult = { ok: true; rows: unknown } | { ok: false; exitCode: number | null }

/** Why a call failed before any command could answer (the adapter maps it to an error code). */
export class DoveadmCallError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'refused' | 'malformed',
    message: string,
    /** Worth trying again: the server could not be reached or was busy. */
    readonly transient: boolean,
  ) {
    super(message)
  }
}

// The reply is a JSON array of [type, payload, tag] triples, one per command, in order
// (https://doc.dovecot.org/2.3/admin_manual/doveadm_http_api/). Anything else is refused.
const replySchema = z.array(
  z.union([
    z.tuple([z.literal('doveadmResponse'), z.unknown(), z.string()]),
    z.tuple([
      z.literal('error'),
      z.object({ type: z.string(), exitCode: z.number().int().optional() }).passthrough(),
      z.string(),
    ]),
  ]),
)

export interface DoveadmClientOptions {
  /** `http(s)://host:port/doveadm/v1` */
  url: URL
  apiKey: string
  rejectUnauthorized: boolean
  maxSockets: number
  timeoutMs: number
}

/**
 * A small client of Dovecot's doveadm HTTP API: several commands in one POST, answered in one
 * JSON array. Connections are kept alive and shared by every mailbox of the profile. Replies are
 * read up to a byte limit and checked against the documented shape before anything uses them.
 */
export class DoveadmClient {
  private readonly agent: HttpAgent
  private readonly authorization: string

  constructor(private readonly options: DoveadmClientOptions) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets }
    this.agent =
      options.url.protocol === 'https:'
        ? new HttpsAgent({ ...agentOptions, rejectUnauthorized: options.rejectUnauthorized })
        : new HttpAgent(agentOptions)
    // doveadm_api_key authentication: "X-Dovecot-API <base64 of the key>".
    this.authorization = `X-Dovecot-API ${Buffer.from(options.apiKey).toString('base64')}`
  }

  /** Runs the commands; answers in command order. `maxBytes` caps the reply body. */
  async call(commands: DoveadmCommand[], maxBytes: number): Promise<DoveadmResult[]> {
    const body = Buffer.from(JSON.stringify(commands))
    const { status, text } = await this.post(body, maxBytes)
    if (status === 401 || status === 403) {
      throw new DoveadmCallError('refused', `HTTP ${status}: the API key was refused`, false)
    }
    if (status !== 200) {
      throw new DoveadmCallError(
        'malformed',
        `HTTP ${status}: ${printable(text)}`,
        status === 429 || status >= 500,
      )
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new DoveadmCallError('malformed', `reply is not JSON: ${printable(text)}`, false)
    }
    const reply = replySchema.safeParse(parsed)
    if (!reply.success) {
      throw new DoveadmCallError('malformed', 'reply is not a list of doveadm answers', false)
    }
    const byTag = new Map(reply.data.map((answer) => [answer[2], answer]))
    return commands.map(([name, , tag]) => {
      const answer = byTag.get(tag)
      if (!answer) {
        throw new DoveadmCallError('malformed', `no answer to "${name}" in the reply`, false)
      }
      if (answer[0] === 'doveadmResponse') return { ok: true, rows: answer[1] }
      return { ok: false, exitCode: answer[1].exitCode ?? null }
    })
  }

  close(): void {
    this.agent.destroy()
  }

  private post(body: Buffer, maxBytes: number): Promise<{ status: number; text: string }> {
    const { url, timeoutMs } = this.options
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise((resolve, reject) => {
      const request = send(
        url,
        {
          method: 'POST',
          agent: this.agent,
          timeout: timeoutMs,
          headers: {
            authorization: this.authorization,
            'content-type': 'application/json',
            'content-length': body.length,
          },
        },
        (response) => {
          readBody(response, maxBytes).then(
            (text) => resolve({ status: response.statusCode ?? 0, text }),
            reject,
          )
        },
      )
      request.on('timeout', () => {
        request.destroy(
          new DoveadmCallError('unreachable', `no answer within ${timeoutMs} ms`, true),
        )
      })
      request.on('error', (err) => {
        reject(
          err instanceof DoveadmCallError
            ? err
            : new DoveadmCallError('unreachable', describeError(err), true),
        )
      })
      request.end(body)
    })
  }
}

function readBody(response: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    response.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        response.destroy(
          new DoveadmCallError('malformed', `reply larger than ${maxBytes} bytes`, false),
        )
        return
      }
      chunks.push(chunk)
    })
    response.on('error', (err) => {
      reject(
        err instanceof DoveadmCallError
          ? err
          : new DoveadmCallError('unreachable', describeError(err), true),
      )
    })
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
  })
}

/** A short, printable excerpt of a reply for error messages (replies are server-controlled). */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.slice(0, 200).replace(/[\u0000-\u001f\u007f]/g, ' ')
}
