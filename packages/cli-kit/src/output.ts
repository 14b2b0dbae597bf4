import { isAppError } from '@postern/core'
import { EXIT, type ExitCode } from './exit-codes.js'

export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean }
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
}

export const processStreams: OutputStreams = { stdout: process.stdout, stderr: process.stderr }

/**
 * Prints a command's result: JSON (stable, for scripts) with `--json`, otherwise the
 * human rendering the command provides.
 */
export function printResult<T>(
  result: T,
  options: { json: boolean; render: (value: T) => string },
  streams: OutputStreams = processStreams,
): void {
  streams.stdout.write(
    options.json ? `${JSON.stringify(result, null, 2)}\n` : `${options.render(result)}\n`,
  )
}

/**
 * Prints an error the way every postern command does — code, message, and the next step — and
 * returns the exit code to use. In `--json` mode the error is a JSON object on stderr.
 */
export function reportError(
  err: unknown,
  options: { json: boolean },
  streams: OutputStreams = processStreams,
): ExitCode {
  if (isAppError(err)) {
    if (options.json) {
      streams.stderr.write(`${JSON.stringify(err.toJSON())}\n`)
    } else {
      streams.stderr.write(`error ${err.code}: ${err.message}\n  next: ${err.hint}\n`)
    }
    return exitCodeFor(err.code)
  }
  const message = err instanceof Error ? err.message : String(err)
  if (options.json) {
    streams.stderr.write(`${JSON.stringify({ error: { code: 'INTERNAL', message } })}\n`)
  } else {
    streams.stderr.write(
      `error: ${message}\n  next: this is a bug; please report it with the command you ran.\n`,
    )
  }
  return EXIT.SOFTWARE
}

function exitCodeFor(code: string): ExitCode {
  if (code.includes('_ERR_CONFIG')) return EXIT.CONFIG
  if (code.includes('UNREACHABLE') || code.includes('UNAVAILABLE')) return EXIT.UNAVAILABLE
  if (code.includes('INVALID') || code.includes('VALIDATION')) return EXIT.DATA
  return EXIT.FAILURE
}

/** A table for terminal output: columns padded to the widest cell, values made printable. */
export function renderTable(
  headers: string[],
  rows: (string | number | null | undefined)[][],
): string {
  const cells = [
    headers,
    ...rows.map((r) => r.map((c) => printable(c === null || c === undefined ? '' : String(c)))),
  ]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  return cells
    .map((r) =>
      r
        .map((c, i) => (c ?? '').padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}

/** Strips control characters so that hostile values (mail subjects, hostnames) cannot drive the terminal. */
export function printable(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\uFFFD')
}
