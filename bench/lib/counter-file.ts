import { closeSync, fstatSync, openSync, readSync } from 'node:fs'

/**
 * Reads the latest value of a counter that a program keeps rewriting to its output with "\r"
 * (smtp-source -c prints "N\r", smtp-sink -c prints "sess=N quit=N mesg=N\r"). Only the tail
 * of the file is read, so polling it every few milliseconds stays cheap however long the run.
 */
export class CounterFile {
  private fd: number | undefined

  constructor(
    private readonly path: string,
    private readonly pattern: RegExp,
  ) {
    if (!pattern.global) throw new Error('CounterFile needs a global pattern (…/g)')
  }

  /** The last complete counter value in the file, 0 before the first one. */
  read(): number {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(this.path, 'r')
      } catch {
        return 0
      }
    }
    const size = fstatSync(this.fd).size
    const length = Math.min(size, 256)
    const buffer = Buffer.alloc(length)
    readSync(this.fd, buffer, 0, length, size - length)
    return lastMatch(buffer.toString('latin1'), this.pattern)
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }
}

/** The number captured by the last match of `pattern` in `text`, or 0. */
export function lastMatch(text: string, pattern: RegExp): number {
  let value = 0
  for (const match of text.matchAll(pattern)) value = Number(match[1])
  return value
}
