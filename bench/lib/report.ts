import { formatMachine, type MachineInfo } from './machine.js'
import { markdownTable } from './table.js'

/**
 * The header every bench section of docs/benchmarks.md starts with, so that each figure can be
 * traced to a machine, a load, a date and exact versions.
 */
export interface RunContext {
  /** Section heading, e.g. "SMTP relay throughput". */
  title: string
  /** The command that regenerates the section, e.g. "npm run bench:smtp". */
  command: string
  startedAt: Date
  finishedAt: Date
  machine: MachineInfo
  loadAtStart: number
  loadAtEnd: number
  /** Program → version, e.g. { Node: 'v20.20.2', Postfix: '3.7.11' }. */
  versions: Record<string, string>
  /** Parameter → value, e.g. { Messages: '20 000 × 5 KB' }. */
  parameters: Record<string, string>
  /** Shown as a quoted paragraph under the heading (e.g. "Preliminary: shared machine"). */
  notes: string[]
}

export function renderRunHeader(context: RunContext): string {
  const minutes = Math.round((context.finishedAt.getTime() - context.startedAt.getTime()) / 60_000)
  const rows: string[][] = [
    ['Date', `${formatDate(context.startedAt)} (${minutes} min)`],
    ['Machine', formatMachine(context.machine)],
    [
      'Load average (1 min)',
      `${context.loadAtStart.toFixed(2)} at start, ${context.loadAtEnd.toFixed(2)} at end`,
    ],
    [
      'Versions',
      Object.entries(context.versions)
        .map(([name, version]) => `${name} ${version}`)
        .join(' · '),
    ],
    ...Object.entries(context.parameters),
  ]
  const notes = context.notes.map((note) => `> ${note}`).join('\n>\n')
  return [
    `## ${context.title}`,
    `Regenerate with \`${context.command}\`.`,
    ...(notes ? [notes] : []),
    markdownTable(['Run', 'Details'], rows),
  ].join('\n\n')
}

/** 2026-11-27 20:40 UTC */
export function formatDate(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`
}
