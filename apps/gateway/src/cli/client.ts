import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { AppError, parseHostPort } from '@postern/core'
import { CLI_TOKEN_FILE, RUNTIME_FILE } from '../api/credentials.js'
import { gwErrors } from '../errors.js'

export interface ConnectionOptions {
  /** The gateway's data directory (from its config file). */
  dataDir: string
  /** Explicit API base URL, e.g. https://gw1.example.com:8025 (with `token`). */
  url?: string | undefined
  token?: string | undefined
}

/**
 * How the CLI talks to a running gateway: by default through the files it writes into its
 * data directory (`gateway.json` with the API address, `cli-token` with an admin credential
 * readable only by the gateway's user); or to any gateway with --url and --token.
 */
export class GatewayClient {
  private constructor(
    private readonly base: string,
    private readonly token: string,
    private readonly dataDir: string,
  ) {}

  static connect(options: ConnectionOptions): GatewayClient {
    if (options.url) {
      if (!options.token) {
        throw gwErrors.CLI_CREDENTIAL_UNREADABLE({
          path: '--token',
          reason: 'a token is required with --url',
        })
      }
      return new GatewayClient(options.url.replace(/\/$/, ''), options.token, options.dataDir)
    }
    const runtimePath = join(options.dataDir, RUNTIME_FILE)
    let runtime: { http?: string }
    try {
      runtime = JSON.parse(readFileSync(runtimePath, 'utf8')) as { http?: string }
    } catch (err) {
      throw gwErrors.GATEWAY_UNREACHABLE({
        dataDir: options.dataDir,
        reason:
          (err as NodeJS.ErrnoException).code === 'ENOENT'
            ? `${runtimePath} does not exist`
            : (err as Error).message,
      })
    }
    const tokenPath = join(options.dataDir, CLI_TOKEN_FILE)
    let token: string
    try {
      token = options.token ?? readFileSync(tokenPath, 'utf8').trim()
    } catch (err) {
      throw gwErrors.CLI_CREDENTIAL_UNREADABLE({ path: tokenPath, reason: (err as Error).message })
    }
    const { host, port } = parseHostPort(runtime.http ?? '')
    // A gateway listening on every interface is reached on the loopback interface.
    const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host
    const hostPart = reachable.includes(':') ? `[${reachable}]` : reachable
    return new GatewayClient(`http://${hostPart}:${port}`, token, options.dataDir)
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      })
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause
      throw gwErrors.GATEWAY_UNREACHABLE({
        dataDir: this.dataDir,
        reason: `${this.base} did not answer (${cause?.code ?? cause?.message ?? (err as Error).message})`,
      })
    }
    const text = await response.text()
    let parsed: unknown
    try {
      parsed = text.length > 0 ? JSON.parse(text) : {}
    } catch {
      parsed = undefined
    }
    if (!response.ok) {
      const error = (
        parsed as { error?: { code?: string; message?: string; hint?: string } } | undefined
      )?.error
      if (error?.code && error.message) {
        // The gateway's own coded error, shown as it is.
        throw new AppError(error.code, {
          message: error.message,
          hint: error.hint ?? '',
          status: response.status,
        })
      }
      throw gwErrors.API_REQUEST_FAILED({ status: response.status, reason: text.slice(0, 200) })
    }
    return parsed as T
  }
}
