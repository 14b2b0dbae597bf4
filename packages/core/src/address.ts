import { isIP } from 'node:net'
import { coreErrors } from './core-errors.js'

export interface HostPort {
  host: string
  port: number
}

/**
 * Parses `host:port`, `[v6]:port` or `:port` (all interfaces). Port 0 asks the OS for a free
 * port, which is how tests run every listener.
 */
export function parseHostPort(value: string, defaultHost = '0.0.0.0'): HostPort {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value.trim())
  if (!match) throw coreErrors.ADDRESS_INVALID({ value })
  const host = match[1] ?? (match[2] === '' || match[2] === undefined ? defaultHost : match[2])
  const port = Number(match[3])
  if (port > 65535) throw coreErrors.ADDRESS_INVALID({ value })
  if (match[1] !== undefined && isIP(match[1]) !== 6) throw coreErrors.ADDRESS_INVALID({ value })
  return { host, port }
}

/** `host:port` for URLs and logs, bracketing IPv6 literals. */
export function formatHostPort({ host, port }: HostPort): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
}
