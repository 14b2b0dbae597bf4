import { useEffect, useState } from 'react'
import { errorText } from '../shared/api.js'
import type { EnrichSummary, HubApi, ResponseAction, TriggerResult } from '../shared/hub-api.js'
import { labelOf, type Observable } from '../shared/observables.js'
import { Obs, SummaryView, TriggerResults } from '../shared/pivot.js'
import { ActionForm, Alert } from '../shared/ui.js'

interface Row {
  observable: Observable
  summary?: EnrichSummary
  actions?: ResponseAction[]
  result?: TriggerResult
}

/**
 * Investigate (seed §1): paste text, the hub finds its observables, every module enriches them;
 * each observable offers the response actions its modules have, with per-recipient results.
 */
export function InvestigatePage({ hub, initial }: { hub: HubApi; initial: string }) {
  const [text, setText] = useState(initial)
  const [rows, setRows] = useState<Row[]>([])
  const [error, setError] = useState<string | null>(null)
  const [forwardTo, setForwardTo] = useState('')

  const investigate = async () => {
    const observables = await hub.inspect(text)
    setRows(observables.map((observable) => ({ observable })))
    const enriched = await Promise.all(
      observables.map(async (observable) => {
        const [summary, actions] = await Promise.all([
          hub.summarise(observable),
          hub.actions([observable]),
        ])
        return { observable, summary, actions }
      }),
    )
    setRows(enriched)
  }
  useEffect(() => {
    if (initial) investigate().catch((err: unknown) => setError(errorText(err)))
  }, [initial])

  const run = async (index: number, action: ResponseAction) => {
    const row = rows[index]
    if (!row) return
    setError(null)
    try {
      const extras: Record<string, string> = forwardTo ? { forward_to: forwardTo } : {}
      const answer = await hub.trigger(action, row.observable, extras)
      setRows((current) => current.map((r, i) => (i === index ? { ...r, result: answer.data } : r)))
    } catch (err) {
      setError(errorText(err))
    }
  }

  return (
    <>
      <h1>Investigate</h1>
      <ActionForm label="Investigate" submit="Investigate" action={investigate}>
        <label className="field" style={{ flex: '1 1 100%' }}>
          <span>Text with observables (addresses, URLs, domains, hashes, Message-IDs…)</span>
          <textarea value={text} onChange={(event) => setText(event.target.value)} />
        </label>
      </ActionForm>
      <label className="field">
        <span>Forward to (for actions that forward)</span>
        <input value={forwardTo} onChange={(event) => setForwardTo(event.target.value)} />
      </label>
      <Alert text={error} />
      {rows.length > 0 && <h2>Observables</h2>}
      {rows.map((row, index) => (
        <section
          key={`${row.observable.type}:${row.observable.value}`}
          className="card"
          aria-label={`${labelOf(row.observable.type)} ${row.observable.value}`}
        >
          <p>
            <strong>{labelOf(row.observable.type)}</strong> <Obs {...row.observable} />
          </p>
          {row.summary ? <SummaryView summary={row.summary} /> : <p>Enriching…</p>}
          <div className="row">
            {(row.actions ?? []).map((action) => (
              <button
                key={`${action.module_instance_id}:${action.id}`}
                type="button"
                onClick={() => void run(index, action)}
              >
                {action.title} ({action.module})
              </button>
            ))}
          </div>
          {row.result && <TriggerResults result={row.result} />}
        </section>
      ))}
    </>
  )
}
