import { accessSync, constants } from 'node:fs'
import { connect } from 'node:net'
import { delimiter, join } from 'node:path'

/**
 * Finds a system program a suite needs (postfix's smtp-sink, dovecot, rspamd, clamd,
 * chromium …). Suites never skip: when the program is missing the suite fails and says which
 * Debian package to install, so a CI run without it cannot pass by accident.
 */
export function requireProgram(program: string, debianPackage: string): string {
  const searchPath = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/sbin',
    '/usr/lib/dovecot',
  ]
  for (const dir of searchPath) {
    if (dir === '') continue
    const candidate = join(dir, program)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this directory
    }
  }
  throw new Error(
    `This suite needs "${program}", which is not installed. Install it with: apt-get install -y ${debianPackage}`,
  )
}

/** The NATS server suites use (POSTERN_TEST_NATS_URL, default the machine's nats://127.0.0.1:4222). */
export function testNatsUrl(): string {
  return process.env.POSTERN_TEST_NATS_URL ?? 'nats://127.0.0.1:4222'
}

/**
 * Fails (never skips) when the NATS server a suite needs does not accept connections, saying
 * how to start one.
 */
export async function requireNats(url = testNatsUrl()): Promise<string> {
  const { hostname, port } = new URL(url.replace(/^nats:/, 'http:'))
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 4222) })
    socket.setTimeout(5_000, () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
  if (!reachable)
    throw new Error(
      `This suite needs a NATS server at ${url}, which does not answer. Start one (apt-get install -y nats-server; nats-server -a 127.0.0.1 -p 4222) or set POSTERN_TEST_NATS_URL.`,
    )
  return url
}
