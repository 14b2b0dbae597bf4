import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { demoErrors } from './errors.js'

/**
 * Calls the demo gateway's HTTP API the way an operator's script would: with the local
 * administrator credential the gateway writes to `dataDir/cli-token` (0600).
 */
export class GatewayApi {
  constructor(
    private readonly baseUrl: string,
    private readonly dataDir: string,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const token = readFileSync(join(this.dataDir, 'cli-token'), 'utf8').trim()
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await response.text()
    if (!response.ok) {
      throw demoErrors.GATEWAY_API_FAILED({
        method,
        path,
        status: response.status,
        body: text.slice(0, 500),
      })
    }
    return (text.length > 0 ? JSON.parse(text) : undefined) as T
  }
}
