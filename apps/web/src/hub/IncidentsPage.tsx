import { useEffect, useState } from 'react'
import { INCIDENT_STATUSES } from '@postern/ctim/vocabularies'
import { call, errorText, type Transport } from '../shared/api.js'
import type { HubApi, Incident } from '../shared/hub-api.js'
import { ActionForm, Alert, Field, Table, useLoad } from '../shared/ui.js'
import { shortId } from './CasebooksPage.js'
import { EntityExports } from './downloads.js'
import { CreateTicket } from './TicketsPage.js'

function StatusSelect({
  label,
  value,
  onChange,
  any,
}: {
  label: string
  value: string
  onChange(value: string): void
  any?: boolean
}) {
  return (
    <label className="field">
      <span>{label}</span>
      <select value={value} onChange={(event) => onChange(event.target.value)}>
        {any && <option value="">Any status</option>}
        {INCIDENT_STATUSES.map((s) => (
          <option key={s}>{s}</option>
        ))}
      </select>
    </label>
  )
}

/** Incidents: list by status, create, open (`#/incidents?id=…`). */
export function IncidentsPage({
  hub,
  transport,
  openId,
}: {
  hub: HubApi
  transport: Transport
  openId: string | null
}) {
  if (openId) return <IncidentDetail hub={hub} transport={transport} id={openId} />
  return <IncidentList hub={hub} transport={transport} />
}

function IncidentList({ hub, transport }: { hub: HubApi; transport: Transport }) {
  const [status, setStatus] = useState('')
  const [title, setTitle] = useState('')
  const list = useLoad(() => hub.incidents(status), [status])
  return (
    <>
      <h1>Incidents</h1>
      <StatusSelect label="Status" value={status} onChange={setStatus} any />
      <ActionForm
        label="New incident"
        submit="Create incident"
        action={async () => {
          const created = await call<Incident>(transport, 'POST', '/ctia/incident', {
            title,
            status: 'New',
            confidence: 'High',
            incident_time: { opened: new Date().toISOString() },
            promotion_method: 'Manual',
          })
          window.location.hash = `#/incidents?id=${encodeURIComponent(shortId(created.id))}`
        }}
      >
        <Field label="Title of the new incident" value={title} onChange={setTitle} required />
      </ActionForm>
      <Alert text={list.error} />
      <Table
        label="Incidents"
        rows={list.data ?? []}
        rowKey={(i) => i.id}
        empty="No incident with this status."
        columns={[
          {
            title: 'Title',
            cell: (i) => (
              <a href={`#/incidents?id=${encodeURIComponent(shortId(i.id))}`}>{i.title ?? i.id}</a>
            ),
          },
          { title: 'Status', cell: (i) => i.status ?? '—' },
          { title: 'Severity', cell: (i) => i.severity ?? '—' },
          { title: 'Assignees', cell: (i) => (i.assignees ?? []).join(', ') || '—' },
          { title: 'Opened', cell: (i) => i.incident_time?.opened ?? '—' },
        ]}
      />
    </>
  )
}

function IncidentDetail({ hub, transport, id }: { hub: HubApi; transport: Transport; id: string }) {
  const loaded = useLoad(
    () => call<Incident>(transport, 'GET', `/ctia/incident/${encodeURIComponent(id)}`),
    [id],
  )
  const casebooks = useLoad(() => hub.casebooks())
  const [incident, setIncident] = useState<Incident | null>(null)
  const [status, setStatus] = useState('New')
  const [assignees, setAssignees] = useState('')
  const [casebook, setCasebook] = useState('')
  const [message, setMessage] = useState<string | null>(null)
  useEffect(() => {
    if (!loaded.data) return
    setIncident(loaded.data)
    setStatus(loaded.data.status ?? 'New')
    setAssignees((loaded.data.assignees ?? []).join(', '))
  }, [loaded.data])
  if (!incident) return loaded.error ? <Alert text={loaded.error} /> : <p>Loading…</p>
  const path = `/ctia/incident/${encodeURIComponent(id)}`
  return (
    <>
      <p>
        <a href="#/incidents">All incidents</a>
      </p>
      <h1>Incident: {incident.title ?? id}</h1>
      {incident.description && <p className="description">{incident.description}</p>}
      <table aria-label="Incident">
        <tbody>
          <tr>
            <th scope="row">Status</th>
            <td>{incident.status}</td>
          </tr>
          <tr>
            <th scope="row">Assignees</th>
            <td>{(incident.assignees ?? []).join(', ') || '—'}</td>
          </tr>
          {Object.entries(incident.incident_time ?? {}).map(([name, at]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td>{at}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ActionForm
        label="Change status"
        submit="Change status"
        action={async () =>
          setIncident(await call<Incident>(transport, 'POST', `${path}/status`, { status }))
        }
      >
        <StatusSelect label="New status" value={status} onChange={setStatus} />
      </ActionForm>
      <ActionForm
        label="Assignees"
        submit="Save assignees"
        action={async () =>
          setIncident(
            await call<Incident>(transport, 'PATCH', path, {
              assignees: assignees
                .split(',')
                .map((a) => a.trim())
                .filter(Boolean),
            }),
          )
        }
      >
        <Field label="Assignees (separated by commas)" value={assignees} onChange={setAssignees} />
      </ActionForm>
      <ActionForm
        label="Link a casebook"
        submit="Link casebook"
        action={async () => {
          const chosen = casebook || casebooks.data?.[0]?.id
          if (!chosen) throw new Error('No casebook to link')
          await call(transport, 'POST', `${path}/link`, { casebook_id: chosen })
          setMessage('Casebook linked')
        }}
      >
        <label className="field">
          <span>Casebook</span>
          <select value={casebook} onChange={(event) => setCasebook(event.target.value)}>
            {(casebooks.data ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.title ?? c.id}
              </option>
            ))}
          </select>
        </label>
      </ActionForm>
      {message && <p role="status">{message}</p>}
      <div className="row">
        <EntityExports transport={transport} kind="incident" entityId={incident.id} shortId={id} />
      </div>
      <h2>Ticket</h2>
      <CreateTicket
        transport={transport}
        subject={{ type: 'incident', id }}
        defaultTitle={`Incident: ${incident.title ?? id}`}
      />
      <Alert text={casebooks.error ? errorText(casebooks.error) : null} />
    </>
  )
}
