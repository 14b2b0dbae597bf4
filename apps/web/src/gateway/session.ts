import { call, type Transport } from '../shared/api.js'
import { tokenSource, type HubToken, type RibbonSource } from '../shared/ribbon-host.js'

const TOKEN_KEY = 'postern.gateway.token'
const USER_KEY = 'postern.gateway.user'

/** The console's session: the gateway's bearer token, kept for this tab only. */
export function gatewayTransport(onUnauthenticated: () => void): Transport {
  return {
    base: '',
    headers: (): Record<string, string> => {
      const token = sessionStorage.getItem(TOKEN_KEY)
      return token ? { authorization: `Bearer ${token}` } : {}
    },
    onUnauthenticated,
  }
}

export async function login(
  transport: Transport,
  username: string,
  password: string,
): Promise<string> {
  const answer = await call<{ token: string; user: { username: string } }>(
    transport,
    'POST',
    '/api/v1/auth/login',
    {
      username,
      password,
    },
  )
  sessionStorage.setItem(TOKEN_KEY, answer.token)
  sessionStorage.setItem(USER_KEY, answer.user.username)
  return answer.user.username
}

export async function logout(transport: Transport): Promise<void> {
  await call(transport, 'POST', '/api/v1/auth/logout').catch(() => undefined)
  sessionStorage.removeItem(TOKEN_KEY)
  sessionStorage.removeItem(USER_KEY)
}

export function currentUser(): string | null {
  return sessionStorage.getItem(TOKEN_KEY) ? sessionStorage.getItem(USER_KEY) : null
}

export interface RibbonLoginView {
  configured: boolean
  clientId: string | null
  hubUrl: string | null
}

/**
 * The ribbon's source on the gateway console: hub tokens the gateway makes from the user's
 * ribbon login (the page never sees the client secret).
 */
export function ribbonSource(transport: Transport, hubUrl: string): RibbonSource {
  return tokenSource(hubUrl, () => call<HubToken>(transport, 'POST', '/api/v1/ribbon/token'))
}
