/** How a console reaches an API: its base URL and the headers that authenticate a call. */
export interface Transport {
  base: string
  headers(method: string): Record<string, string> | Promise<Record<string, string>>
  /** Called when the API says the session is gone. */
  onUnauthenticated?(): void
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

/** The readable message of an error body: ours (`error.message`), OAuth's or Threat Response's. */
function messageOf(body: unknown, status: number): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>
    const error = b.error
    if (
      error &&
      typeof error === 'object' &&
      typeof (error as { message?: unknown }).message === 'string'
    ) {
      return (error as { message: string }).message
    }
    if (typeof b.error_description === 'string') return b.error_description
    if (typeof b.message === 'string') return b.message
    if (typeof error === 'string') return error
  }
  return `Request failed (HTTP ${status})`
}

export async function call<T>(
  transport: Transport,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { ...(await transport.headers(method)) }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(`${transport.base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: transport.base === '' ? 'same-origin' : 'omit',
  })
  const text = await response.text()
  const parsed: unknown = text ? safeJson(text) : undefined
  if (!response.ok) {
    if (response.status === 401) transport.onUnauthenticated?.()
    throw new ApiError(response.status, messageOf(parsed, response.status))
  }
  return parsed as T
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—'
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19)
}
