import { describeError } from '@postern/core'
import { cloudErrors } from './errors.js'

export interface HubInfo {
  region: string
  publicUrl: string
  tunnelUrl: string
}

export interface RegistrationRequest {
  token: string
  uid: string
  model: string
  version: string
  hostname: string
  deployment: 'standalone' | 'cluster'
  clusterName: string | null
  name?: string
}

export interface RegistrationReply {
  deviceId: string
  orgId: string
  name: string
  region: string
  credential: string
  hubUrl: string
  tunnelUrl: string
}

/**
 * The gateway's HTTPS calls to its hub outside the tunnel: what the hub is, registration with a
 * token, and deregistration with the device credential. Outbound only, as the seed's firewall
 * rule requires.
 */
export class HubClient {
  constructor(
    readonly hubUrl: string,
    private readonly timeoutMs: number,
  ) {}

  info(): Promise<HubInfo> {
    return this.call<HubInfo>('GET', '/api/v1/hub')
  }

  register(request: RegistrationRequest): Promise<RegistrationReply> {
    return this.call<RegistrationReply>('POST', '/api/v1/devices/register', request)
  }

  /** Tells the hub to revoke this device; true when it did (or already had). */
  async deregister(credential: string): Promise<void> {
    try {
      await this.call('POST', '/api/v1/devices/self/deregister', undefined, credential)
    } catch (err) {
      // Already revoked on the hub (an admin deregistered it there): nothing left to do.
      if (
        cloudErrors.HUB_REFUSED.is(err) &&
        err.params.code === 'HUB_ERR_DEVICE_CREDENTIAL_INVALID'
      )
        return
      throw err
    }
  }

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    credential?: string,
  ): Promise<T> {
    let response: Response
    try {
      response = await fetch(`${this.hubUrl.replace(/\/+$/, '')}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(credential ? { authorization: `Bearer ${credential}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      })
    } catch (err) {
      throw cloudErrors.HUB_UNREACHABLE(
        { hubUrl: this.hubUrl, reason: describeError(err) },
        { cause: err },
      )
    }
    const text = await response.text()
    if (response.ok) return (text ? JSON.parse(text) : {}) as T
    let error: { code?: string; message?: string; hint?: string } = {}
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error ?? {}
    } catch {
      // not our JSON: fall through with the status line
    }
    throw cloudErrors.HUB_REFUSED({
      code: error.code ?? `HTTP ${response.status}`,
      message: (error.message ?? response.statusText).slice(0, 500),
      hint: (error.hint ?? 'Check the hub URL and its logs.').slice(0, 500),
    })
  }
}
