import { describeError, type Clock, type SecretBox } from '@postern/core'
import type { RibbonCredentialsRepo } from '@postern/store'
import { gwErrors } from '../errors.js'

export interface HubToken {
  accessToken: string
  expiresAt: number
  hubUrl: string
}

export interface RibbonLoginView {
  configured: boolean
  clientId: string | null
  hubUrl: string | null
  updatedAt: number | null
}

/**
 * The ribbon login of the gateway console (seed §3): each console user's hub API client, its
 * secret sealed at rest and bound to its owner; the page gets only short-lived access tokens the
 * gateway fetches with the OAuth2 client-credentials grant (RFC 6749 §4.4).
 */
export class RibbonLogin {
  constructor(
    private readonly deps: {
      repo: RibbonCredentialsRepo
      box: SecretBox
      clock: Clock
      fetch?: typeof fetch
    },
  ) {}

  async view(owner: string): Promise<RibbonLoginView> {
    const found = await this.deps.repo.get(owner)
    return {
      configured: found !== undefined,
      clientId: found?.clientId ?? null,
      hubUrl: found?.hubUrl ?? null,
      updatedAt: found?.updatedAt ?? null,
    }
  }

  /** Checks the client against the hub (a token must be granted), then keeps it. */
  async save(
    owner: string,
    input: { hubUrl: string; clientId: string; clientSecret: string },
  ): Promise<HubToken> {
    const hubUrl = input.hubUrl.replace(/\/+$/, '')
    const token = await this.token(hubUrl, input.clientId, input.clientSecret)
    await this.deps.repo.put({
      owner,
      hubUrl,
      clientId: input.clientId,
      secretSealed: this.deps.box.encrypt(input.clientSecret, `ribbon:${owner}`),
      updatedAt: this.deps.clock.now(),
    })
    return token
  }

  async remove(owner: string): Promise<void> {
    await this.deps.repo.remove(owner)
  }

  async tokenFor(owner: string): Promise<HubToken> {
    const found = await this.deps.repo.get(owner)
    if (!found) throw gwErrors.RIBBON_NOT_LOGGED_IN({ owner })
    const secret = this.deps.box.decrypt(found.secretSealed, `ribbon:${owner}`)
    return this.token(found.hubUrl, found.clientId, secret)
  }

  hubUrls(): Promise<string[]> {
    return this.deps.repo.hubUrls()
  }

  private async token(hubUrl: string, clientId: string, secret: string): Promise<HubToken> {
    let response: Response
    try {
      response = await (this.deps.fetch ?? fetch)(`${hubUrl}/iroh/oauth2/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: 'grant_type=client_credentials',
        signal: AbortSignal.timeout(10_000),
      })
    } catch (err) {
      throw gwErrors.RIBBON_HUB_UNREACHABLE({ hubUrl, reason: describeError(err) })
    }
    if (!response.ok) {
      throw gwErrors.RIBBON_HUB_REFUSED({ hubUrl, clientId, status: response.status })
    }
    const body = (await response.json()) as { access_token?: unknown; expires_in?: unknown }
    if (typeof body.access_token !== 'string') {
      throw gwErrors.RIBBON_HUB_REFUSED({ hubUrl, clientId, status: response.status })
    }
    const seconds = typeof body.expires_in === 'number' ? body.expires_in : 600
    return {
      accessToken: body.access_token,
      expiresAt: this.deps.clock.now() + seconds * 1000,
      hubUrl,
    }
  }
}
