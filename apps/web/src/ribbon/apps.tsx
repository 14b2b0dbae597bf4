import { useState } from 'react'
import { errorText } from '../shared/api.js'
import type { Casebook, EnrichSummary, HubApi } from '../shared/hub-api.js'
import type { Observable } from '../shared/observables.js'
import { Obs, SummaryView } from '../shared/pivot.js'
import { ActionForm, Alert, Field, Table, useLoad } from '../shared/ui.js'
import type { RibbonAppProps } from './registry.js'

export function HomeApp({ hub }: RibbonAppProps) {
  const active = useLoad(() => hub.activeCase())
  return (
    <div>
      <p>Connected to the hub{hub.base ? ` at ${hub.base}` : ''}.</p>
      <p>Active case: {active.data ? (active.data.title ?? active.data.id) : 'none'}</p>
      <Alert text={active.error} />
    </div>
  )
}

/** Casebook app (seed §3): find a case, open it, read and add notes, make it the active one. */
export function CasebookApp({ hub, caseId, openCase }: RibbonAppProps) {
  // The open case is part of the ribbon's saved state when the ribbon gives one.
  const [localId, setLocalId] = useState<string | null>(null)
  const openId = openCase ? (caseId ?? null) : localId
  const open = openCase ?? setLocalId
  const [query, setQuery] = useState('')
  const [search, setSearch] = useState('')
  const list = useLoad(
    () => (openId ? Promise.resolve([]) : hub.casebooks(search)),
    [search, openId],
  )
  if (openId) return <OpenCase hub={hub} id={openId} onClose={() => open(null)} />
  return (
    <div>
      <ActionForm label="Search casebooks" submit="Search" action={async () => setSearch(query)}>
        <Field label="Search casebooks" value={query} onChange={setQuery} />
      </ActionForm>
      <Alert text={list.error} />
      <Table
        label="Casebooks"
        rows={list.data ?? []}
        rowKey={(c) => c.id}
        empty="No casebook yet."
        columns={[
          {
            title: 'Title',
            cell: (c) => (
              <button type="button" onClick={() => open(c.id)}>
                {c.title ?? c.id}
              </button>
            ),
          },
          { title: 'Observables', cell: (c) => String(c.observables?.length ?? 0) },
          { title: 'Updated', cell: (c) => c.timestamp ?? '—' },
        ]}
      />
    </div>
  )
}

function OpenCase({ hub, id, onClose }: { hub: HubApi; id: string; onClose(): void }) {
  const loaded = useLoad(() => hub.casebook(id), [id])
  const [changed, setChanged] = useState<Casebook | null>(null)
  const [note, setNote] = useState('')
  const [message, setMessage] = useState<string | null>(null)
  const casebook = changed ?? loaded.data
  return (
    <div>
      <button type="button" onClick={onClose}>
        Back to casebooks
      </button>
      <Alert text={loaded.error} />
      {casebook && (
        <>
          <h3>{casebook.title ?? casebook.id}</h3>
          {casebook.description && <p>{casebook.description}</p>}
          <h4>Observables</h4>
          <ul>
            {(casebook.observables ?? []).map((o) => (
              <li key={`${o.type}:${o.value}`}>
                <Obs {...o} />
              </li>
            ))}
          </ul>
          <h4>Notes</h4>
          <ul aria-label="Notes">
            {(casebook.texts ?? []).map((t, i) => (
              <li key={i}>{t.text}</li>
            ))}
          </ul>
          <ActionForm
            label="Add a note"
            submit="Add note"
            action={async () => {
              setChanged(await hub.addNote(casebook.id, note))
              setNote('')
            }}
          >
            <Field label="Note" value={note} onChange={setNote} required />
          </ActionForm>
          <button
            type="button"
            onClick={() =>
              void hub.setActiveCase(casebook.id).then(
                () => setMessage('This is now the active case'),
                (e: unknown) => setMessage(errorText(e)),
              )
            }
          >
            Set as active case
          </button>
          {message && <p role="status">{message}</p>}
        </>
      )}
    </div>
  )
}

export function IncidentsApp({ hub }: RibbonAppProps) {
  const incidents = useLoad(() => hub.incidents())
  return (
    <div>
      <Alert text={incidents.error} />
      <Table
        label="Incidents"
        rows={incidents.data ?? []}
        rowKey={(i) => i.id}
        empty="No incident."
        columns={[
          { title: 'Title', cell: (i) => i.title ?? i.id },
          { title: 'Status', cell: (i) => i.status ?? '—' },
          { title: 'When', cell: (i) => i.timestamp ?? '—' },
        ]}
      />
    </div>
  )
}

/** The enrichment search box: paste text, get its observables and a summary of each. */
export function EnrichApp({ hub }: RibbonAppProps) {
  const [text, setText] = useState('')
  const [rows, setRows] = useState<{ observable: Observable; summary: EnrichSummary }[]>([])
  return (
    <div>
      <ActionForm
        label="Enrich"
        submit="Enrich"
        action={async () => {
          const observables = await hub.inspect(text)
          setRows(
            await Promise.all(
              observables.map(async (observable) => ({
                observable,
                summary: await hub.summarise(observable),
              })),
            ),
          )
        }}
      >
        <Field label="Observables or text to enrich" value={text} onChange={setText} required />
      </ActionForm>
      {rows.map((row) => (
        <div key={`${row.observable.type}:${row.observable.value}`} className="card">
          <Obs {...row.observable} />
          <SummaryView summary={row.summary} />
        </div>
      ))}
    </div>
  )
}
