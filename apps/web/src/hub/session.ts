import { call, type Transport } from '../shared/api.js'

const CSRF_KEY = 'postern.hub.csrf'

/**
 * The console's session: an HttpOnly cookie the script never sees, plus the CSRF token the
 * hub returns at login, which every change must carry (kept for this tab only).
 */
export function hubTransport(onUnauthenticated: () => void): Transport {
  return {
    base: '',
    headers: (method): Record<string, string> => {
      const csrf = sessionStorage.getItem(CSRF_KEY)
      return method === 'GET' || !csrf ? {} : { 'x-csrf-token': csrf }
    },
    onUnauthenticated,
  }
}

export interface HubUser {
  email: string
  name: string
  role: string
}

export async function login(
  transport: Transport,
  email: string,
  password: string,
): Promise<HubUser> {
  const answer = await call<{ user: HubUser; csrfToken: string }>(
    transport,
    'POST',
    '/api/v1/session',
    {
      email,
      password,
    },
  )
  sessionStorage.setItem(CSRF_KEY, answer.csrfToken)
  sessionStorage.setItem('postern.hub.user', answer.user.email)
  return answer.user
}

export async function logout(transport: Transport): Promise<void> {
  await call(transport, 'DELETE', '/api/v1/session').catch(() => undefined)
  sessionStorage.removeItem(CSRF_KEY)
  sessionStorage.removeItem('postern.hub.user')
}

/** The logged-in user of this tab, when the cookie is still good. */
export async function resume(transport: Transport): Promise<string | null> {
  const email = sessionStorage.getItem('postern.hub.user')
  if (!email || !sessionStorage.getItem(CSRF_KEY)) return null
  try {
    await call(transport, 'GET', '/api/v1/session')
    return email
  } catch {
    return null
  }
}
