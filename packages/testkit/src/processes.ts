import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'

export interface RunningProcess {
  child: ChildProcess
  /** Everything written to stdout and stderr so far. */
  output(): string
  /** Resolves with the first output line matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>
  /** SIGKILL at once (crash simulation). */
  kill9(): Promise<void>
  exited: Promise<number | null>
}

/** Starts a program for a test and keeps its output for assertions and failure messages. */
export function startProcess(
  command: string,
  args: string[],
  options: SpawnOptions = {},
): RunningProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options })
  let buffer = ''
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = []
  const onData = (chunk: Buffer): void => {
    buffer += chunk.toString('utf8')
    if (buffer.length > 4_000_000) buffer = buffer.slice(-2_000_000)
    for (let i = waiters.length - 1; i >= 0; i--) {
      const waiter = waiters[i] as (typeof waiters)[number]
      const match = waiter.pattern.exec(buffer)
      if (match) {
        waiters.splice(i, 1)
        waiter.resolve(match)
      }
    }
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )

  const waitForLine = (pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> => {
    const existing = pattern.exec(buffer)
    if (existing) return Promise.resolve(existing)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `${command} did not print ${pattern} within ${timeoutMs} ms. Output:\n${buffer.slice(-4000)}`,
          ),
        )
      }, timeoutMs)
      const waiter = {
        pattern,
        resolve: (m: RegExpMatchArray) => {
          clearTimeout(timer)
          resolve(m)
        },
      }
      waiters.push(waiter)
      void exited.then((code) => {
        if (waiters.includes(waiter)) {
          clearTimeout(timer)
          reject(
            new Error(
              `${command} exited (${code}) before printing ${pattern}. Output:\n${buffer.slice(-4000)}`,
            ),
          )
        }
      })
    })
  }

  const alive = (): boolean => child.exitCode === null && child.signalCode === null
  return {
    child,
    output: () => buffer,
    waitForLine,
    exited,
    async stop(graceMs = 5_000) {
      if (!alive()) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    },
    async kill9() {
      if (!alive()) return
      child.kill('SIGKILL')
      await exited
    },
  }
}
