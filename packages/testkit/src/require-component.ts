import { accessSync, constants } from 'node:fs'
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
