import { readdirSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { NODE_ID_SPACE, nodeIdRange, type IdRange } from '@postern/store'

/**
 * How the processes of one gateway node number their messages and where they spool them.
 *
 * A node owns 2^40 ids (MIDs, ICIDs, DCIDs) from `nodeNumber × 2^40` (`nodeIdRange`). With
 * several SMTP processes the node's range is cut into 32 slots of 2^35 ids: slot 0 is the
 * primary process (messages the API submits: quarantine releases, notifications), slots
 * 1…31 the SMTP processes. A slot is a fixed place in the node's range, not a share of the
 * process count, so ids stay unique when `smtpProcesses` changes between restarts, across
 * the nodes of a cluster (their ranges never overlap), and a MID names the process that
 * queued it. A gateway of one process is slot 0 (its ids were always far below 2^35), so no
 * two processes ever number in the same slot, however the count changed in between.
 */

/** Slots per node: the primary's and one per SMTP process. */
export const PROCESS_SLOTS = 32

/** The most SMTP processes one node can run (slot 0 is the primary's). */
export const MAX_SMTP_PROCESSES = PROCESS_SLOTS - 1

/** Ids each slot numbers in (2^35: 34 billion messages, connections and deliveries each). */
export const PROCESS_ID_SPACE = NODE_ID_SPACE / PROCESS_SLOTS

/** The ids of slot `slot` of node `node`. */
export function processIdRange(node: number, slot: number): IdRange {
  const from = nodeIdRange(node).from + slot * PROCESS_ID_SPACE
  return { from, below: from + PROCESS_ID_SPACE }
}

/** The slot whose range holds `id` within node `node`'s range, undefined outside it. */
export function slotOfId(node: number, id: number): number | undefined {
  const range = nodeIdRange(node)
  if (!Number.isSafeInteger(id) || id < range.from || id >= range.below) return undefined
  return Math.floor((id - range.from) / PROCESS_ID_SPACE)
}

/**
 * The spool directory of a slot: `dataDir/spool` for the primary (and for a standalone
 * gateway, so a gateway switched to several processes keeps delivering what it had queued),
 * `dataDir/spool-<slot>` for each SMTP process. One spool per process: each has its own lock,
 * group commit and fsync, so a 250 still means "on disk" in the process that gave it.
 */
export function spoolDirOf(dataDir: string, slot: number): string {
  return slot === 0 ? join(dataDir, 'spool') : join(dataDir, `spool-${slot}`)
}

/** `smtpProcesses` as a count: `auto` is one per CPU the process may use, at most 31. */
export function resolveSmtpProcesses(value: number | 'auto'): number {
  if (value !== 'auto') return value
  return Math.max(1, Math.min(MAX_SMTP_PROCESSES, availableParallelism()))
}

/** Slots whose spool directory exists in `dataDir` (`spool-<slot>`), in order. */
export function spoolSlots(dataDir: string): number[] {
  let names: string[]
  try {
    names = readdirSync(dataDir)
  } catch {
    return []
  }
  return names
    .map((name) => /^spool-(\d+)$/.exec(name)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .filter((slot) => slot >= 1 && slot <= MAX_SMTP_PROCESSES)
    .sort((a, b) => a - b)
}
