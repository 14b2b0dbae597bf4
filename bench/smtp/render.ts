import {
  formatFixed,
  formatInteger,
  formatMiB,
  formatRatio,
  markdownTable,
  type Cell,
} from '../lib/index.js'
import type { SourceLoad } from './smtp-tools.js'
import type { Comparison, IdleResult, RowSummary, Target } from './summary.js'

/** The tables bench:smtp prints and writes into docs/benchmarks.md (same content, two renderings). */

export interface Table {
  title: string
  headers: string[]
  align: ('left' | 'right')[]
  rows: Cell[][]
  /** Paragraph under the table. */
  note?: string
  /** Columns left out on the terminal, where wide text does not fit. */
  hideInTerminal?: number[]
}

/** The table as the terminal shows it (cli-kit's padded columns). */
export function terminalTable(table: Table): { headers: string[]; rows: Cell[][] } {
  const keep = (_: unknown, i: number): boolean => !table.hideInTerminal?.includes(i)
  return { headers: table.headers.filter(keep), rows: table.rows.map((row) => row.filter(keep)) }
}

export function throughputTable(summaries: RowSummary[]): Table {
  return {
    title: 'Throughput',
    headers: [
      'Relay',
      'Conditions',
      'Accepted msg/s',
      'End-to-end msg/s',
      'End-to-end min–max',
      'Relay CPU ms/msg',
      'Peak memory (PSS)',
    ],
    align: ['left', 'left', 'right', 'right', 'right', 'right', 'right'],
    rows: summaries.map((s) => [
      s.label,
      s.conditions,
      formatInteger(s.acceptedPerSec),
      formatInteger(s.endToEndPerSec),
      s.endToEndMin === undefined
        ? ''
        : `${formatInteger(s.endToEndMin)}–${formatInteger(s.endToEndMax)}`,
      formatFixed(s.cpuMsPerMessage, 2),
      formatMiB(s.peakPss ?? s.peakRss),
    ]),
    hideInTerminal: [1],
    note: summaries
      .filter((s) => s.status !== 'measured')
      .map((s) => `- ${s.label}: ${s.status}: ${s.reason ?? ''}`)
      .join('\n'),
  }
}

const PEER_COLUMNS: { id: Comparison['peer']; title: string }[] = [
  { id: 'postfix', title: 'vs Postfix' },
  { id: 'haraka', title: 'vs Haraka' },
  { id: 'haraka-nodelay', title: 'vs Haraka + TCP_NODELAY' },
]

export function ratioTable(summaries: RowSummary[], comparisons: Comparison[]): Table {
  const posternRows = summaries.filter((s) => s.id.startsWith('postern'))
  const rows = posternRows
    .filter((s) => comparisons.some((c) => c.postern === s.id))
    .map((s) => [
      s.label,
      ...PEER_COLUMNS.map(({ id }) => {
        const c = comparisons.find((x) => x.postern === s.id && x.peer === id)
        return c ? `${formatRatio(c.endToEnd)} (${formatRatio(c.accepted)})` : ''
      }),
    ])
  const missing = posternRows.find((s) => s.status !== 'measured')
  return {
    title: 'Postern against the peers',
    headers: ['Postern', ...PEER_COLUMNS.map((c) => c.title)],
    align: ['left', 'right', 'right', 'right'],
    rows,
    note:
      rows.length === 0
        ? `No Postern row was measured in this run${missing?.reason ? `: ${missing.reason}` : ''}.`
        : 'End-to-end ratio, accepted ratio in parentheses; medians of the same run.',
  }
}

export function targetTable(targets: Target[]): Table {
  return {
    title: 'Targets',
    headers: ['Target', 'From', 'Measured', 'Met'],
    align: ['left', 'left', 'right', 'left'],
    rows: targets.map((t) => [
      t.what,
      t.source,
      t.measured ?? 'not measured',
      t.met === undefined ? '' : t.met ? 'yes' : 'no',
    ]),
  }
}

export function idleTable(idle: IdleResult[], requested: number, notes: string[]): Table {
  return {
    title: `Memory at ${formatInteger(requested)} idle SMTP sessions`,
    headers: ['Relay', 'Sessions open', 'RSS', 'RSS before', 'Per session', 'PSS'],
    align: ['left', 'right', 'right', 'right', 'right', 'right'],
    rows: idle.map((r) => [
      r.label,
      `${formatInteger(r.established)} of ${formatInteger(r.requested)}${
        Object.keys(r.failures).length > 0
          ? ` (${Object.entries(r.failures)
              .map(([reason, count]) => `${count}× ${reason}`)
              .join('; ')})`
          : ''
      }`,
      formatMiB(r.rss),
      formatMiB(r.baselineRss),
      perSession(r),
      formatMiB(r.pss),
    ]),
    note: notes.join(' '),
  }
}

/** RSS added per open session; a garbage collection meanwhile can make RSS fall instead. */
function perSession(r: IdleResult): string {
  if (r.established === 0) return ''
  const delta = r.rss - r.baselineRss
  return delta < 0 ? 'RSS fell (GC)' : `${(delta / 1024 / r.established).toFixed(1)} KiB`
}

export function runsTable(summaries: RowSummary[]): Table {
  return {
    title: 'Every run',
    headers: [
      'Relay',
      'Run',
      'Accepted msg/s',
      'End-to-end msg/s',
      'Seconds (accepted / end-to-end)',
      'CPU ms/msg',
      'Peak PSS',
      'Extra deliveries',
    ],
    align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    rows: summaries.flatMap((s) =>
      s.runs.map((run, i) => [
        s.label,
        i + 1,
        formatInteger(run.acceptedPerSec),
        formatInteger(run.endToEndPerSec),
        `${run.acceptedSeconds.toFixed(1)} / ${run.endToEndSeconds.toFixed(1)}`,
        formatFixed(run.cpuMsPerMessage, 2),
        formatMiB(run.peakPss ?? run.peakRss),
        run.extraDeliveries,
      ]),
    ),
  }
}

export function methodNotes(load: SourceLoad, warmup: number): string[] {
  return [
    `\`smtp-source\` (Debian postfix) sends ${formatInteger(load.messages)} messages of ${formatInteger(load.size)} bytes of payload over ${load.sessions} parallel sessions, one message per connection, to the relay on 127.0.0.1; the relay forwards to \`smtp-sink\` (run as \`-u nobody\` under root).`,
    `Accepted msg/s: messages ÷ time until smtp-source has its last 250 and exits. End-to-end msg/s: messages ÷ time until smtp-sink has received the last one (its counter polled every 20 ms).`,
    `Each relay starts fresh for each run (new queue/spool), gets ${formatInteger(warmup)} warm-up messages that are not counted, then the measured load. Relays take turns within a run (round robin), so a busy moment on the machine spreads over all of them; figures are medians over the runs.`,
    'Relay CPU: user + system time of the relay’s whole process tree (Postfix’s master and every daemon it forks, including exited ones through their parent’s cutime) from /proc, between the start of the measured load and the last delivery, per message. Peak memory: highest PSS of the tree, sampled every 500 ms (shared pages divided among processes).',
    'Relay CPU ms/msg is the figure least sensitive to a busy machine. Throughput is not: when the machine is overloaded (load average well above its cores), the kernel shares CPU per runnable process, so a relay made of many processes (Postfix) gets a larger share than a single-process one (Haraka, Postern), and their ratio moves with the load.',
    'Postern runs as users run it (`node bin/postern.js gateway --config FILE`, built code) with a configuration file the bench writes per row (bench/smtp/postern-config.ts); durability is the gateway default: fsync before 250.',
  ]
}

/** The table under a heading (`level` '' leaves the heading out); an empty table shows only its note. */
export function renderMarkdownTable(table: Table, level = '###'): string {
  return [
    ...(level ? [`${level} ${table.title}`] : []),
    ...(table.rows.length > 0 ? [markdownTable(table.headers, table.rows, table.align)] : []),
    ...(table.note ? [table.note] : []),
  ].join('\n\n')
}
