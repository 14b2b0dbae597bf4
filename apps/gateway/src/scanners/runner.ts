import { isAppError } from '@postern/core'
import { gwErrors } from '../errors.js'
import type { FailurePolicy, ScanContext, ScanResult, Scanner } from './contract.js'

export interface ScannerOutcome {
  scanner: string
  result: ScanResult
  durationMs: number
  /** Set when the scanner errored or timed out: what its failure policy says to do. */
  failure: FailurePolicy | null
  /** The quarantine a `quarantine` failure goes to. */
  failureQuarantine: string | null
}

/**
 * Runs every scanner on a message at once, each under its own timeout. A scanner that throws
 * or overruns is contained: its result becomes `error` with a coded error, and its failure
 * policy (tempfail, skip, quarantine) is reported for the pipeline to apply.
 */
export async function runScanners(
  scanners: readonly Scanner[],
  context: Omit<ScanContext, 'signal'>,
  parentSignal: AbortSignal,
): Promise<ScannerOutcome[]> {
  return Promise.all(scanners.map((scanner) => runOne(scanner, context, parentSignal)))
}

async function runOne(
  scanner: Scanner,
  context: Omit<ScanContext, 'signal'>,
  parentSignal: AbortSignal,
): Promise<ScannerOutcome> {
  const started = performance.now()
  const controller = new AbortController()
  const onParentAbort = (): void => controller.abort(parentSignal.reason)
  parentSignal.addEventListener('abort', onParentAbort, { once: true })
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<ScanResult>((resolve) => {
    timer = setTimeout(() => {
      const err = gwErrors.SCANNER_TIMEOUT({ scanner: scanner.id, ms: scanner.timeoutMs })
      controller.abort(err)
      resolve({
        status: 'error',
        verdicts: [],
        error: { code: err.code, message: err.message },
      })
    }, scanner.timeoutMs)
  })
  let result: ScanResult
  try {
    result = await Promise.race([
      scanner.scan({ ...context, signal: controller.signal }).catch((err: unknown): ScanResult => ({
        status: 'error',
        verdicts: [],
        error: isAppError(err)
          ? { code: err.code, message: err.message }
          : { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) },
      })),
      timedOut,
    ])
  } finally {
    clearTimeout(timer)
    parentSignal.removeEventListener('abort', onParentAbort)
    if (!controller.signal.aborted) controller.abort()
  }
  const failed = result.status === 'error'
  return {
    scanner: scanner.id,
    result,
    durationMs: Math.round(performance.now() - started),
    failure: failed ? scanner.onFailure : null,
    failureQuarantine:
      failed && scanner.onFailure === 'quarantine' ? scanner.failureQuarantine : null,
  }
}
