import { useState } from 'react'
import { errorText } from '../shared/api.js'
import { Alert } from '../shared/ui.js'

/**
 * What the last action of a page did: a status line on success, an alert with the API's coded
 * message on failure. `run` wraps an action; `busy` disables the page's action buttons meanwhile;
 * `report` tells the success of an action run elsewhere.
 */
export function useOutcome() {
  const [done, setDone] = useState<string | null>(null)
  const [failed, setFailed] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const run = async (action: () => Promise<string>) => {
    setBusy(true)
    setDone(null)
    setFailed(null)
    try {
      setDone(await action())
    } catch (err) {
      setFailed(errorText(err))
    } finally {
      setBusy(false)
    }
  }
  /** For actions a form runs (the form shows their errors): only the success is told here. */
  const report = (message: string) => {
    setFailed(null)
    setDone(message)
  }
  const view = (
    <>
      {done && (
        <p role="status" className="outcome">
          {done}
        </p>
      )}
      <Alert text={failed} />
    </>
  )
  return { run, report, busy, view }
}
