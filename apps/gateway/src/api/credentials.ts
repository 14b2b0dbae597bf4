import { rename, writeFile } from 'node:fs/promises'
import type { ApiRole } from '@postern/store'
import { gwErrors } from '../errors.js'

/**
 * Small account rules and file names shared by the API and the CLI (kept apart from the HTTP
 * layer so that CLI commands start without loading it).
 */

/** File names in dataDir: the local CLI credential (0600) and how to reach the gateway. */
export const CLI_TOKEN_FILE = 'cli-token'
export const RUNTIME_FILE = 'gateway.json'

export const MIN_PASSWORD_LENGTH = 10

const RANK: Record<ApiRole, number> = { 'read-only': 1, operator: 2, admin: 3 }

export function roleAllows(have: ApiRole, need: ApiRole): boolean {
  return RANK[have] >= RANK[need]
}

/** The lower of two roles. */
export function minRole(a: ApiRole, b: ApiRole): ApiRole {
  return RANK[a] <= RANK[b] ? a : b
}

export function isRole(value: string): value is ApiRole {
  return Object.hasOwn(RANK, value)
}

export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw gwErrors.PASSWORD_INVALID({ min: MIN_PASSWORD_LENGTH })
  }
}

/** Written under a temporary name and renamed, mode 0600. */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, content, { mode: 0o600 })
  await rename(tmp, path)
}
