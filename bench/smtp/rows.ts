import { harakaTemplate, startHaraka } from './peers/haraka.js'
import { startPostfix } from './peers/postfix.js'
import { startPostern } from './peers/postern.js'
import type { RelayInstance, RelayStartContext } from './peers/relay.js'
import { resolveSmtpProcesses } from '@postern/gateway'
import type { ScannerEndpoints, SmtpProcessesSetting } from './postern-config.js'

/** How a Postern row says how many processes accepted SMTP (`auto` resolved on this machine). */
export function processesCondition(setting: SmtpProcessesSetting): string {
  const count = resolveSmtpProcesses(setting)
  const given = setting === 'auto' ? ', smtpProcesses: auto' : ''
  return count === 1 && setting !== 'auto'
    ? 'one process'
    : `${count} SMTP process${count === 1 ? '' : 'es'} next to a primary${given}`
}

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

/** The rows, the Postern ones running `smtpProcesses` (`--smtp-processes`, default 1). */
export function benchRows(smtpProcesses: SmtpProcessesSetting = 1): readonly RowDefinition[] {
  const processes = processesCondition(smtpProcesses)
  return [
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
      conditions: `relay, ${processes}, spool fsync before 250 (default), content pipeline off`,
      start: (context) => startPostern(context, { variant: 'relay', smtpProcesses }),
    },
    {
      id: 'postern-pipeline',
      product: 'Postern',
      conditions: `full pipeline (parse, hashes, authentication, block lists, policies, tracking), ${processes}, rspamd and ClamAV off`,
      start: (context) => startPostern(context, { variant: 'pipeline', smtpProcesses }),
    },
    {
      id: 'postern-scanners',
      product: 'Postern',
      conditions: `full pipeline with rspamd and ClamAV on, ${processes} (CPU includes rspamd’s and clamd’s)`,
      start: (context) =>
        startPostern(context, {
          variant: 'scanners',
          smtpProcesses,
          ...(context.scanners ? { scanners: context.scanners } : {}),
        }),
    },
  ]
}

export const ROW_IDS = benchRows().map((row) => row.id)
