import { execFile, spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { descendantsOf, readProcessTable, readProcStat } from './proc.js'

/**
 * Starting and stopping the programs a bench measures (relays, sinks, scanners). Their output
 * goes straight to a log file, never through the bench process: a relay that logs every
 * message must not make the bench itself compete for the CPU it is measuring. Every started
 * service is registered so that Ctrl-C or a crash of the bench stops it.
 */

export interface ServiceSpec {
  /** Shown in progress and errors, e.g. "postfix". */
  name: string
  command: string
  args: string[]
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Receives stdout and stderr. */
  logFile: string
  /** Resolves true once the service can be used (e.g. `() => tcpAccepts(port)`). */
  ready?: () => Promise<boolean> | boolean
  readyTimeoutMs?: number
  /** A graceful stop to try before signals (e.g. `postfix -c DIR stop`). */
  gracefulStop?: () => Promise<unknown>
}

export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface Service {
  readonly name: string
  readonly pid: number
  readonly logFile: string
  readonly exited: Promise<ExitInfo>
  running(): boolean
  /** The last `bytes` of the log, for error messages. */
  logTail(bytes?: number): string
  /** Graceful stop, then SIGTERM, then SIGKILL after `graceMs`; also ends leftover children. */
  stop(graceMs?: number): Promise<void>
}

const started = new Set<Service>()

/** Starts `spec` and waits until it is ready; fails with its log tail if it exits or times out. */
export async function startService(spec: ServiceSpec): Promise<Service> {
  const log = openSync(spec.logFile, 'a')
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    stdio: ['ignore', log, log],
    // Its own process group, so that stop() reaches every process it forks.
    detached: true,
  })
  closeSync(log)
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve))
  const exited = new Promise<ExitInfo>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const pid = await Promise.race([
    new Promise<number>((resolve) => child.once('spawn', () => resolve(child.pid as number))),
    spawnError.then((err) => {
      throw new Error(`${spec.name}: cannot run ${spec.command}: ${err.message}`)
    }),
  ])
  let alive = true
  void exited.then(() => {
    alive = false
  })

  const service: Service = {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    exited,
    running: () => alive,
    logTail: (bytes = 3000) => tailOfFile(spec.logFile, bytes),
    async stop(graceMs = 10_000) {
      started.delete(service)
      if (!alive) return
      const tree = snapshotTree(pid)
      if (spec.gracefulStop) {
        await atMost(
          spec.gracefulStop().catch(() => undefined),
          graceMs,
        )
        await atMost(exited, graceMs)
      }
      if (alive) {
        signalGroup(pid, 'SIGTERM')
        await atMost(exited, graceMs)
      }
      if (alive) {
        signalGroup(pid, 'SIGKILL')
        await exited
      }
      killLeftovers(tree)
    },
  }
  started.add(service)

  const deadline = Date.now() + (spec.readyTimeoutMs ?? 60_000)
  for (;;) {
    if (!alive) {
      const info = await exited
      started.delete(service)
      throw new Error(
        `${spec.name} exited (${describeExit(info)}) before it was ready. Log ${spec.logFile}:\n${service.logTail()}`,
      )
    }
    if (!spec.ready || (await spec.ready())) return service
    if (Date.now() > deadline) {
      await service.stop(2000)
      throw new Error(
        `${spec.name} was not ready after ${spec.readyTimeoutMs ?? 60_000} ms. Log ${spec.logFile}:\n${service.logTail()}`,
      )
    }
    await delay(50)
  }
}

/** Stops every service still running (in reverse start order). */
export async function stopAllServices(): Promise<void> {
  for (const service of [...started].reverse()) await service.stop(3000)
}

/**
 * Stops started services when the bench is interrupted or fails, then exits with the usual
 * 128 + signal code. `cleanup` runs after the services are stopped (e.g. removing work dirs).
 */
export function installSignalHandlers(cleanup: () => void = () => undefined): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping what the bench started…\n`)
      void stopAllServices()
        .catch(() => undefined)
        .finally(() => {
          cleanup()
          process.exit(signal === 'SIGINT' ? 130 : 143)
        })
    })
  }
  // Last resort when the bench exits some other way (a crash): no relay may outlive it.
  process.once('exit', () => {
    for (const service of started) signalGroup(service.pid, 'SIGKILL')
    cleanup()
  })
}

export function describeExit(info: ExitInfo): string {
  return info.signal ? `signal ${info.signal}` : `exit code ${info.code}`
}

export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs a short command to completion and returns its output; a non-zero exit is a result,
 * not an exception (the caller knows what it means). A missing program gives code 127.
 */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ code: 0, stdout, stderr })
        const code = (error as NodeJS.ErrnoException).code
        resolve({
          code: typeof code === 'number' ? code : code === 'ENOENT' ? 127 : 1,
          stdout,
          stderr: stderr || error.message,
        })
      },
    )
    // A program that never reads its stdin closes it early: that is not an error here.
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(options.input ?? '')
  })
}

/** True when something accepts TCP connections on host:port right now. */
export function tcpAccepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * A wait that keeps the process alive. (An unref'd timer here once made the bench exit with
 * code 13, "unsettled top-level await", when a service died while it was the only thing
 * running: the event loop emptied during the wait and the failure was never reported.)
 */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Waits for `promise`, but no longer than `ms`; the timer does not outlive the wait. */
export async function atMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))])
  } finally {
    clearTimeout(timer)
  }
}

/** The last `bytes` of a file ('' if unreadable), cut at a line start. */
export function tailOfFile(path: string, bytes: number): string {
  try {
    const size = statSync(path).size
    const text = readFileSync(path)
      .subarray(Math.max(0, size - bytes))
      .toString('utf8')
    return size > bytes ? text.slice(text.indexOf('\n') + 1) : text
  } catch {
    return ''
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      // already gone
    }
  }
}

/** The tree's processes with their names, so that a reused pid is never signalled later. */
function snapshotTree(root: number): Map<number, string> {
  const table = readProcessTable()
  const parentOf = new Map<number, number>()
  for (const stat of table.values()) parentOf.set(stat.pid, stat.ppid)
  const tree = new Map<number, string>()
  for (const pid of descendantsOf(root, parentOf)) {
    const stat = table.get(pid)
    if (stat) tree.set(pid, stat.comm)
  }
  return tree
}

/** Daemons that left the process group (setsid) outlive a group signal; end them by pid. */
function killLeftovers(tree: Map<number, string>): void {
  for (const [pid, comm] of tree) {
    const stat = readProcStat(pid)
    if (stat && stat.comm === comm && stat.state !== 'Z') {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // exited meanwhile
      }
    }
  }
}
