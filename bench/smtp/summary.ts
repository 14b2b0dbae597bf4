import { formatInteger, median, ratio } from '../lib/index.js'
import type { RunMeasurement } from './measure.js'
import type { RowDefinition, RowId } from './rows.js'

/** What the bench concludes for one row over all its runs. */
export interface RowSummary {
  id: RowId
  /** e.g. "Postfix 3.7.11". */
  label: string
  conditions: string
  status: 'measured' | 'not available' | 'failed'
  /** Why the row is not available or failed. */
  reason?: string
  runs: RunMeasurement[]
  /** Medians over the runs. */
  acceptedPerSec?: number
  endToEndPerSec?: number
  endToEndMin?: number
  endToEndMax?: number
  cpuMsPerMessage?: number
  /** Highest peak over the runs, bytes. */
  peakRss?: number
  peakPss?: number
  extraDeliveries: number
}

export function summarizeRow(
  row: RowDefinition,
  label: string,
  runs: RunMeasurement[],
  problem?: { status: 'not available' | 'failed'; reason: string },
): RowSummary {
  const base = { id: row.id, label, conditions: row.conditions, runs }
  const extraDeliveries = runs.reduce((sum, run) => sum + run.extraDeliveries, 0)
  if (problem && runs.length === 0) return { ...base, ...problem, extraDeliveries }
  const defined = (values: (number | undefined)[]): number[] =>
    values.filter((v): v is number => v !== undefined)
  const endToEnd = runs.map((run) => run.endToEndPerSec)
  const cpu = defined(runs.map((run) => run.cpuMsPerMessage))
  const rss = defined(runs.map((run) => run.peakRss))
  const pss = defined(runs.map((run) => run.peakPss))
  return {
    ...base,
    // A row that failed after some runs keeps its figures and says why it has fewer runs.
    status: problem ? problem.status : 'measured',
    ...(problem ? { reason: problem.reason } : {}),
    acceptedPerSec: median(runs.map((run) => run.acceptedPerSec)),
    endToEndPerSec: median(endToEnd),
    endToEndMin: Math.min(...endToEnd),
    endToEndMax: Math.max(...endToEnd),
    ...(cpu.length > 0 ? { cpuMsPerMessage: median(cpu) } : {}),
    ...(rss.length > 0 ? { peakRss: Math.max(...rss) } : {}),
    ...(pss.length > 0 ? { peakPss: Math.max(...pss) } : {}),
    extraDeliveries,
  }
}

export interface Comparison {
  postern: RowId
  peer: RowId
  endToEnd?: number
  accepted?: number
}

const POSTERN_ROWS: RowId[] = ['postern', 'postern-pipeline', 'postern-scanners']
const PEER_ROWS: RowId[] = ['postfix', 'haraka', 'haraka-nodelay']

/** Postern rows against each peer row, on medians of the same run. */
export function compare(summaries: RowSummary[]): Comparison[] {
  const byId = new Map(summaries.map((s) => [s.id, s]))
  const comparisons: Comparison[] = []
  for (const postern of POSTERN_ROWS) {
    const ours = byId.get(postern)
    if (!ours || ours.endToEndPerSec === undefined) continue
    for (const peer of PEER_ROWS) {
      const theirs = byId.get(peer)
      if (!theirs || theirs.endToEndPerSec === undefined) continue
      const endToEnd = ratio(ours.endToEndPerSec, theirs.endToEndPerSec)
      const accepted = ratio(ours.acceptedPerSec, theirs.acceptedPerSec)
      comparisons.push({
        postern,
        peer,
        ...(endToEnd === undefined ? {} : { endToEnd }),
        ...(accepted === undefined ? {} : { accepted }),
      })
    }
  }
  return comparisons
}

export interface Target {
  what: string
  /** Where the target comes from. */
  source: string
  /** The measured value as text, or undefined when it could not be measured. */
  measured?: string
  met?: boolean
}

export interface IdleResult {
  id: RowId
  label: string
  requested: number
  established: number
  failures: Record<string, number>
  /** RSS of the relay tree before the sessions were opened, bytes. */
  baselineRss: number
  /** RSS with every session open, bytes. */
  rss: number
  pss?: number
}

export const IDLE_RSS_TARGET_BYTES = 300 * 1024 * 1024

export function evaluateTargets(
  summaries: RowSummary[],
  comparisons: Comparison[],
  idle: IdleResult[],
): Target[] {
  const versus = (postern: RowId): number | undefined =>
    comparisons.find((c) => c.postern === postern && c.peer === 'postfix')?.endToEnd
  const relay = versus('postern')
  const pipeline = versus('postern-pipeline')
  const posternIdle = idle.find((r) => r.id === 'postern')
  const targets: Target[] = [
    {
      what: 'Postern relay end-to-end ≥ 2× Postfix, fsync on',
      source: 'issue 2',
      ...(relay === undefined ? {} : { measured: `${relay.toFixed(2)}×`, met: relay >= 2 }),
    },
    {
      what: 'Postern full pipeline end-to-end ≥ 1.0× Postfix',
      source: 'issue 3',
      ...(pipeline === undefined
        ? {}
        : { measured: `${pipeline.toFixed(2)}×`, met: pipeline >= 1 }),
    },
    {
      what: 'Postern RSS < 300 MiB at 1 000 idle sessions',
      source: 'issue 2',
      ...(posternIdle && posternIdle.established === posternIdle.requested
        ? {
            measured: `${(posternIdle.rss / 1024 / 1024).toFixed(1)} MiB at ${formatInteger(posternIdle.requested)}`,
            // Fewer sessions than the target's say nothing about it.
            ...(posternIdle.requested >= 1000
              ? { met: posternIdle.rss < IDLE_RSS_TARGET_BYTES }
              : {}),
          }
        : {}),
    },
  ]
  // Not a target anyone chose, but a relay that duplicates mail is broken whatever its speed.
  for (const s of summaries)
    if (s.extraDeliveries > 0)
      targets.push({
        what: `${s.label}: no duplicate deliveries`,
        source: 'correctness',
        measured: `${s.extraDeliveries} extra`,
        met: false,
      })
  return targets
}
