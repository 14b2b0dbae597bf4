import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describeError } from '@postern/core'
import { cloudErrors } from './errors.js'

/** What identifies this gateway installation: the seed's UID and install date. */
export interface MachineIdentity {
  /** Stable unique id of this installation (reported as UID at registration and in telemetry). */
  uid: string
  /** When this installation first started, epoch milliseconds. */
  installDate: number
}

/**
 * Reads `machine.json` in the data directory, creating it on first use. Per machine, never in
 * the shared database: every node of a cluster is its own device.
 */
export function loadMachineIdentity(dataDir: string, now = Date.now()): MachineIdentity {
  const path = join(dataDir, 'machine.json')
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true })
    const identity: MachineIdentity = { uid: randomUUID().toUpperCase(), installDate: now }
    const temp = `${path}.${process.pid}.tmp`
    writeFileSync(temp, `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o644 })
    renameSync(temp, path)
  }
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<MachineIdentity>
    if (typeof parsed.uid !== 'string' || typeof parsed.installDate !== 'number')
      throw new Error('uid or installDate missing')
    return { uid: parsed.uid, installDate: parsed.installDate }
  } catch (err) {
    throw cloudErrors.IDENTITY_UNREADABLE({ path, reason: describeError(err) }, { cause: err })
  }
}
