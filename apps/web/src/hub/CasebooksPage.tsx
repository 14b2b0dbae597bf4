import { useEffect, useState } from 'react'
import { call, errorText, type Transport } from '../shared/api.js'
import type { Casebook, HubApi } from '../shared/hub-api.js'
import { OBSERVABLE_LABELS, labelOf } from '../shared/observables.js'
import { Obs } from '../shared/pivot.js'
import { ActionForm, Alert, Field, Table, useLoad } from '../shared/ui.js'
import { EntityExports } from './downloads.js'
import { CreateTicket } from './TicketsPage.js'

/** The short id of a CTIA id URL (what the console puts in its own links). */
export function shortId(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1)
}

interface BlockOutcome {
  entries: { kind: string; value: string }[]
  skipped: { type: string; value: string }[]
  gateways: { device_id: string; ok: boolean; changed?: number; error?: string }[]
}

/** Casebooks: search, create, open (`#/casebooks?id=…`). */
export function CasebooksPage({
  hub,
  transport,
  openId,
}: {
  hub: HubApi
  transport: Transport
  openId: string | null
}) {
  if (openId) return <CasebookDetail hub={hub} transport={transport} id={openId} />
  return <CasebookList hub={hub} />
}

function CasebookList({ hub }: { hub: HubApi }) {
  const [query, setQuery] = useState('')
  const [search, setSearch] = useState('')
  const [title, setTitle] = useState('')
  const list = useLoad(() => hub.casebooks(search), [search])
  const active = useLoad(() => hub.activeCase())
  return (
    <>
      <h1>Casebooks</h1>
      <p>
        Active case:{' '}
        {active.data ? (
          <a href={`#/casebooks?id=${encodeURIComponent(shortId(active.data.id))}`}>
            {active.data.title ?? active.data.id}
          </a>
        ) : (
          'none'
        )}
      </p>
      <ActionForm label="Search casebooks" submit="Search" action={async () => setSearch(query)}>
        <Field
          label="Search casebooks"
          value={query}
          onChange={setQuery}
          placeholder="words of the title, or title:invoice"
        />
      </ActionForm>
      <ActionForm
        label="New casebook"
        submit="Create casebook"
        action={async () => {
          const created = await hub.createCase(title, [])
          window.location.hash = `#/casebooks?id=${encodeURIComponent(shortId(created.id))}`
        }}
      >
        <Field label="Title of the new casebook" value={title} onChange={setTitle} required />
      </ActionForm>
      <Alert text={list.error ?? active.error} />
      <Table
        label="Casebooks"
        rows={list.data ?? []}
        rowKey={(c) => c.id}
        empty="No casebook yet."
        columns={[
          {
            title: 'Title',
            cell: (c) => (
              <a href={`#/casebooks?id=${encodeURIComponent(shortId(c.id))}`}>{c.title ?? c.id}</a>
            ),
          },
          { title: 'Observables', cell: (c) => String(c.observables?.length ?? 0) },
          { title: 'Notes', cell: (c) => String(c.texts?.length ?? 0) },
          { title: 'Updated', cell: (c) => c.timestamp ?? '—' },
        ]}
      />
    </>
  )
}

function CasebookDetail({ hub, transport, id }: { hub: HubApi; transport: Transport; id: string }) {
  const loaded = useLoad(() => hub.casebook(id), [id])
  const [casebook, setCasebook] = useState<Casebook | null>(null)
  useEffect(() => setCasebook(loaded.data), [loaded.data])
  if (!casebook) return loaded.error ? <Alert text={loaded.error} /> : <p>Loading…</p>
  return <CasebookView hub={hub} transport={transport} casebook={casebook} onChange={setCasebook} />
}

function CasebookView({
  hub,
  transport,
  casebook,
  onChange,
}: {
  hub: HubApi
  transport: Transport
  casebook: Casebook
  onChange(casebook: Casebook): void
}) {
  const id = shortId(casebook.id)
  const [title, setTitle] = useState(casebook.title ?? '')
  const [description, setDescription] = useState(casebook.description ?? '')
  const [note, setNote] = useState('')
  const [type, setType] = useState('domain')
  const [value, setValue] = useState('')
  const [status, setStatus] = useState<string | null>(null)
  const [blocks, setBlocks] = useState<BlockOutcome | null>(null)
  const report = (work: Promise<string>) =>
    work.then(setStatus, (err: unknown) => setStatus(errorText(err)))
  return (
    <>
      <p>
        <a href="#/casebooks">All casebooks</a>
      </p>
      <h1>Casebook: {casebook.title ?? id}</h1>
      <ActionForm
        label="Title and description"
        submit="Save title and description"
        action={async () => onChange(await hub.updateCase(id, { title, description }))}
      >
        <Field label="Title" value={title} onChange={setTitle} required />
        <label className="field wide">
          <span>Description</span>
          <textarea value={description} onChange={(event) => setDescription(event.target.value)} />
        </label>
      </ActionForm>
      {casebook.description && <p className="description">{casebook.description}</p>}
      <div className="row">
        <button
          type="button"
          onClick={() =>
            void report(hub.setActiveCase(id).then(() => 'This is now your active case'))
          }
        >
          Set as active case
        </button>
        <EntityExports transport={transport} kind="casebook" entityId={casebook.id} shortId={id} />
        <button
          type="button"
          onClick={() =>
            void report(
              call<BlockOutcome>(
                transport,
                'POST',
                `/api/v1/casebooks/${encodeURIComponent(id)}/blocks`,
                {},
              ).then((outcome) => {
                setBlocks(outcome)
                return `Sent ${outcome.entries.length} block-list entries to ${outcome.gateways.length} gateways`
              }),
            )
          }
        >
          Block on every gateway
        </button>
      </div>
      {status && <p role="status">{status}</p>}
      {blocks && (
        <Table
          label="Block results per gateway"
          rows={blocks.gateways}
          rowKey={(g) => g.device_id}
          empty="No gateway in this organisation."
          columns={[
            { title: 'Gateway', cell: (g) => g.device_id },
            { title: 'Result', cell: (g) => (g.ok ? `ok (${g.changed ?? 0} changed)` : 'failed') },
            { title: 'Error', cell: (g) => g.error ?? '—' },
          ]}
        />
      )}

      <h2>Observables</h2>
      <ul aria-label="Observables">
        {(casebook.observables ?? []).map((o) => (
          <li key={`${o.type}:${o.value}`}>
            {labelOf(o.type)}: <Obs {...o} />
          </li>
        ))}
      </ul>
      <ActionForm
        label="Add an observable"
        submit="Add observable"
        action={async () => {
          onChange(await hub.addToCase(id, [{ type, value }]))
          setValue('')
        }}
      >
        <label className="field">
          <span>Observable type</span>
          <select value={type} onChange={(event) => setType(event.target.value)}>
            {Object.entries(OBSERVABLE_LABELS).map(([t, label]) => (
              <option key={t} value={t}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <Field label="Observable value" value={value} onChange={setValue} required />
      </ActionForm>

      <h2>Notes</h2>
      <ul aria-label="Notes">
        {(casebook.texts ?? []).map((t, i) => (
          <li key={i}>
            <span className="muted">{t.type}:</span> {t.text}
          </li>
        ))}
      </ul>
      <ActionForm
        label="Add a note"
        submit="Add note"
        action={async () => {
          onChange(await hub.addNote(id, note))
          setNote('')
        }}
      >
        <label className="field wide">
          <span>Note</span>
          <textarea value={note} required onChange={(event) => setNote(event.target.value)} />
        </label>
      </ActionForm>

      <h2>Ticket</h2>
      <CreateTicket
        transport={transport}
        subject={{ type: 'casebook', id }}
        defaultTitle={`Casebook: ${casebook.title ?? id}`}
      />
    </>
  )
}
