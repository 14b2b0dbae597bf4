import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * CPU time and memory of process trees, read from Linux /proc (proc(5)). A relay is measured as
 * its whole tree — Postfix's master and every daemon it forks, Haraka's or Postern's single
 * process with its threads — so that work handed to a helper process is not lost.
 */

export interface ProcStat {
  pid: number
  comm: string
  state: string
  ppid: number
  /** Clock ticks spent in user and kernel mode by the process (all its threads). */
  utime: number
  stime: number
  /** Clock ticks of its children that have exited and been waited for. */
  cutime: number
  cstime: number
  numThreads: number
  /** Resident set size in pages. */
  rssPages: number
}

/**
 * Parses /proc/PID/stat. The command name sits in parentheses and may itself contain spaces
 * and parentheses, so the fields are split after the last ")".
 */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open < 0 || close < open) throw new Error(`not a /proc/PID/stat line: ${text.slice(0, 80)}`)
  const pid = Number(text.slice(0, open).trim())
  const fields = text
    .slice(close + 1)
    .trim()
    .split(/\s+/)
  // fields[0] is field 3 (state) of proc(5); field N is fields[N - 3].
  const field = (n: number): number => {
    const value = Number(fields[n - 3])
    if (!Number.isFinite(value)) throw new Error(`/proc/${pid}/stat: field ${n} is missing`)
    return value
  }
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: fields[0] ?? '?',
    ppid: field(4),
    utime: field(14),
    stime: field(15),
    cutime: field(16),
    cstime: field(17),
    numThreads: field(20),
    rssPages: field(24),
  }
}

export interface MemoryUsage {
  /** Resident set size, bytes. */
  rss: number
  /** Proportional set size (shared pages divided among their users), bytes; undefined if unreadable. */
  pss: number | undefined
}

/** Parses /proc/PID/smaps_rollup (values in kB). */
export function parseSmapsRollup(text: string): MemoryUsage {
  const kb = (name: string): number | undefined => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)
    return match ? Number(match[1]) * 1024 : undefined
  }
  const rss = kb('Rss')
  if (rss === undefined) throw new Error('smaps_rollup has no Rss line')
  return { rss, pss: kb('Pss') }
}

/** `root` and every process below it, given each live process's parent. */
export function descendantsOf(root: number, parentOf: ReadonlyMap<number, number>): number[] {
  const children = new Map<number, number[]>()
  for (const [pid, ppid] of parentOf) {
    const list = children.get(ppid)
    if (list) list.push(pid)
    else children.set(ppid, [pid])
  }
  const result: number[] = []
  const queue = [root]
  const seen = new Set<number>()
  while (queue.length > 0) {
    const pid = queue.shift() as number
    if (seen.has(pid)) continue
    seen.add(pid)
    result.push(pid)
    queue.push(...(children.get(pid) ?? []))
  }
  return result
}

let constants: { clockTicks: number; pageSize: number } | undefined

/** USER_HZ and the page size, asked once from getconf (100 and 4096 on common Linux systems). */
export function systemConstants(): { clockTicks: number; pageSize: number } {
  if (constants) return constants
  const ask = (name: string, fallback: number): number => {
    try {
      const value = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim())
      return Number.isFinite(value) && value > 0 ? value : fallback
    } catch {
      return fallback
    }
  }
  constants = { clockTicks: ask('CLK_TCK', 100), pageSize: ask('PAGESIZE', 4096) }
  return constants
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined // the process exited between listing and reading, or is not ours to read
  }
}

export function readProcStat(pid: number): ProcStat | undefined {
  const text = readText(`/proc/${pid}/stat`)
  return text === undefined ? undefined : parseProcStat(text)
}

/** Every live process's stat line, keyed by pid. */
export function readProcessTable(): Map<number, ProcStat> {
  const table = new Map<number, ProcStat>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readProcStat(Number(entry))
    if (stat) table.set(stat.pid, stat)
  }
  return table
}

export interface TreeSample {
  /** Milliseconds since an arbitrary origin (performance.now()). */
  at: number
  pids: number[]
  /**
   * CPU milliseconds of the tree: user + system time of every live process plus that of its
   * exited children. The difference of two samples is the tree's CPU time in between, also
   * when daemons were forked and reaped meanwhile (their time moves into the parent's cutime).
   */
  cpuMs: number
  /** Sum of RSS over the tree, bytes (shared pages counted once per process). */
  rss: number
  /** Sum of PSS over the tree, bytes (shared pages divided), or undefined when unreadable. */
  pss: number | undefined
}

/** Samples a process and all its descendants; `memory: false` skips the smaps reads. */
export function sampleProcessTree(root: number, options: { memory?: boolean } = {}): TreeSample {
  const at = performance.now()
  const table = readProcessTable()
  if (!table.has(root)) throw new Error(`process ${root} is not running`)
  const parentOf = new Map<number, number>()
  for (const stat of table.values()) parentOf.set(stat.pid, stat.ppid)
  const pids = descendantsOf(root, parentOf)
  const { clockTicks, pageSize } = systemConstants()
  let ticks = 0
  let rss = 0
  let pss: number | undefined = 0
  for (const pid of pids) {
    const stat = table.get(pid) as ProcStat
    ticks += stat.utime + stat.stime + stat.cutime + stat.cstime
    if (options.memory === false) continue
    const rollup = readText(`/proc/${pid}/smaps_rollup`)
    const usage = rollup === undefined ? undefined : parseSmapsRollup(rollup)
    rss += usage?.rss ?? stat.rssPages * pageSize
    pss = usage?.pss === undefined || pss === undefined ? undefined : pss + usage.pss
  }
  return { at, pids, cpuMs: (ticks * 1000) / clockTicks, rss, pss }
}

/**
 * Samples a process tree's memory every `intervalMs` and keeps the peak, for "peak memory
 * during the run" figures. Sampling never throws: a tree that vanished just stops the peak.
 */
export class MemorySampler {
  private timer: NodeJS.Timeout | undefined
  peakRss = 0
  peakPss: number | undefined = undefined

  constructor(
    private readonly root: number,
    private readonly intervalMs = 500,
  ) {}

  start(): this {
    this.sample()
    this.timer = setInterval(() => this.sample(), this.intervalMs)
    this.timer.unref()
    return this
  }

  stop(): { peakRss: number; peakPss: number | undefined } {
    if (this.timer) clearInterval(this.timer)
    this.sample()
    return { peakRss: this.peakRss, peakPss: this.peakPss }
  }

  private sample(): void {
    let sample: TreeSample
    try {
      sample = sampleProcessTree(this.root)
    } catch {
      return
    }
    this.peakRss = Math.max(this.peakRss, sample.rss)
    if (sample.pss !== undefined) this.peakPss = Math.max(this.peakPss ?? 0, sample.pss)
  }
}

/**
 * Waits until the process trees of `roots` use less than `maxShare` of one CPU over a
 * `windowMs` window, or `timeoutMs` passed: services that answer before they finish their own
 * start-up work (rspamd compiling its Hyperscan rules) must not take CPU from a measured run.
 * Returns how long it waited and whether the trees settled.
 */
export async function waitUntilIdle(
  roots: readonly number[],
  options: { maxShare?: number; windowMs?: number; timeoutMs?: number } = {},
): Promise<{ waitedMs: number; settled: boolean }> {
  const { maxShare = 0.05, windowMs = 2_000, timeoutMs = 180_000 } = options
  const started = performance.now()
  const cpu = () =>
    roots.reduce((sum, root) => sum + sampleProcessTree(root, { memory: false }).cpuMs, 0)
  let before = cpu()
  while (performance.now() - started < timeoutMs) {
    await sleep(windowMs)
    const now = cpu()
    if (now - before < windowMs * maxShare)
      return { waitedMs: performance.now() - started, settled: true }
    before = now
  }
  return { waitedMs: performance.now() - started, settled: false }
}
