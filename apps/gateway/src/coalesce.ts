/**
 * `run` once per turn of the event loop however often the returned function is called in it:
 * a burst of changes (or of queued events) becomes one IPC notice, not one per change.
 */
export function oncePerTurn(run: () => void): () => void {
  let scheduled = false
  return () => {
    if (scheduled) return
    scheduled = true
    setImmediate(() => {
      scheduled = false
      run()
    })
  }
}

/**
 * `task` with at most one run at a time and at most one more queued: calls made while it runs
 * share that one queued run (it starts after the current one, so it sees every change they
 * announced). A storm of reload requests costs two reloads, not one per request.
 */
export function singleFlight(task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined
  let queued: Promise<void> | undefined
  const start = (): Promise<void> => {
    running = task().finally(() => {
      running = undefined
    })
    return running
  }
  return () => {
    if (!running) return start()
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = undefined
        return start()
      })
    return queued
  }
}
