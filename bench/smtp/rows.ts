import { harakaTemplate, startHaraka } from './peers/haraka.js'
import { startPostfix } from './peers/postfix.js'
import { startPostern } from './peers/postern.js'
import type { RelayInstance, RelayStartContext } from './peers/relay.js'
import { resolveSmtpProcesses } from '@postern/gateway'
import { BENCH_SMTP_PROCESSES, type ScannerEndpoints } from './postern-config.js'

/** How the multi-process rows say how many SMTP processes ran (one per core of this machine). */
const PROCESSES = `${resolveSmtpProcesses(BENCH_SMTP_PROCESSES)} SMTP processes (smtpProcesses: auto)`

/**
 * The rows of the SMTP table. Each Postern row is driven by a configuration file the bench
 * writes (postern-config.ts); adding a row is adding an entry here.
 */
export type RowId =
  | 'sink'
  | 'postfix'
  | 'haraka'
  | 'haraka-nodelay'
  | 'postern'
  | 'postern-pipeline'
  | 'postern-scanners'

export interface RowContext extends RelayStartContext {
  /** The bench run's root folder (shared templates live there). */
  workRoot: string
  scanners?: ScannerEndpoints
}

export interface RowDefinition {
  id: RowId
  /** Product name in the table; the version is appended. */
  product: 'smtp-sink' | 'Postfix' | 'Haraka' | 'Postern'
  /** What is measured, for the table. */
  conditions: string
  /** Undefined for the ceiling row: smtp-source sends straight to smtp-sink. */
  start?: (context: RowContext) => Promise<RelayInstance>
}

export const ROWS: readonly RowDefinition[] = [
  {
    id: 'sink',
    product: 'smtp-sink',
    conditions: 'alone, no relay: the ceiling of the setup',
  },
  {
    id: 'postfix',
    product: 'Postfix',
    conditions: 'defaults, disk queue (one fsync per message), private instance',
    start: (context) => startPostfix(context),
  },
  {
    id: 'haraka',
    product: 'Haraka',
    conditions: 'smtp_forward (writes nothing to disk), defaults: Nagle on',
    start: async (context) =>
      startHaraka(context, await harakaTemplate(context.workRoot), { noDelay: false }),
  },
  {
    id: 'haraka-nodelay',
    product: 'Haraka',
    conditions: 'smtp_forward, TCP_NODELAY on every socket (bench preload)',
    start: async (context) =>
      startHaraka(context, await harakaTemplate(context.workRoot), { noDelay: true }),
  },
  {
    id: 'postern',
    product: 'Postern',
    conditions: `relay, ${PROCESSES}, each spool fsync before 250 (default), content pipeline off`,
    start: (context) => startPostern(context, { variant: 'relay' }),
  },
  {
    id: 'postern-pipeline',
    product: 'Postern',
    conditions: `full pipeline (parse, hashes, authentication, block lists, policies, tracking), ${PROCESSES}, rspamd and ClamAV off`,
    start: (context) => startPostern(context, { variant: 'pipeline' }),
  },
  {
    id: 'postern-scanners',
    product: 'Postern',
    conditions: 'full pipeline with rspamd and ClamAV on (CPU includes rspamd’s and clamd’s)',
    start: (context) =>
      startPostern(context, {
        variant: 'scanners',
        ...(context.scanners ? { scanners: context.scanners } : {}),
      }),
  },
]

export const ROW_IDS = ROWS.map((row) => row.id)
