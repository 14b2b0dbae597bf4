import { useState } from 'react'
import { call, formatTime, type Transport } from '../shared/api.js'
import { ActionForm, Alert, Field, Table, useLoad } from '../shared/ui.js'
import { actorText, type Actor } from './actor.js'

/** Scopes a ribbon client needs (the hub's RIBBON_CLIENT_SCOPES), offered as the default. */
const RIBBON_SCOPES = [
  'casebook',
  'enrich:read',
  'global-intel:read',
  'inspect:read',
  'integration:read',
  'private-intel',
  'profile',
  'response',
  'users:read',
]

/** A value shown once (a new secret or token): the user copies it now or never. */
function ShownOnce({ label, value }: { label: string; value: string }) {
  return (
    <div role="status">
      <p>{label} — shown only now, copy it:</p>
      <p className="secret" aria-label={label}>
        {value}
      </p>
    </div>
  )
}

interface RegistrationToken {
  id: string
  label: string
  createdAt: number
  expiresAt: number
  status: string
  deviceId: string | null
}

interface Device {
  id: string
  name: string
  model: string
  version: string
  region: string
  status: string
  threatResponse: string
  lastSeenAt: number | null
}

export function DevicesPage({ transport }: { transport: Transport }) {
  const tokens = useLoad(() =>
    call<{ items: RegistrationToken[] }>(transport, 'GET', '/api/v1/devices/registration-tokens'),
  )
  const devices = useLoad(() => call<{ items: Device[] }>(transport, 'GET', '/api/v1/devices'))
  const [label, setLabel] = useState('')
  const [created, setCreated] = useState<string | null>(null)
  return (
    <>
      <h1>Devices</h1>
      <h2>Registration tokens</h2>
      <ActionForm
        label="New registration token"
        submit="Create registration token"
        action={async () => {
          const answer = await call<{ token: string }>(
            transport,
            'POST',
            '/api/v1/devices/registration-tokens',
            {
              ...(label ? { label } : {}),
            },
          )
          setCreated(answer.token)
          tokens.reload()
        }}
      >
        <Field label="Label" value={label} onChange={setLabel} />
      </ActionForm>
      {created && <ShownOnce label="Registration token" value={created} />}
      <Alert text={tokens.error} />
      <Table
        label="Registration tokens"
        rows={tokens.data?.items ?? []}
        rowKey={(t) => t.id}
        columns={[
          { title: 'Label', cell: (t) => t.label },
          { title: 'Status', cell: (t) => t.status },
          { title: 'Created', cell: (t) => formatTime(t.createdAt) },
          { title: 'Expires', cell: (t) => formatTime(t.expiresAt) },
          { title: 'Device', cell: (t) => t.deviceId ?? '—' },
        ]}
      />
      <h2>Registered devices</h2>
      <Alert text={devices.error} />
      <Table
        label="Devices"
        rows={devices.data?.items ?? []}
        rowKey={(d) => d.id}
        columns={[
          { title: 'Name', cell: (d) => d.name },
          { title: 'Model', cell: (d) => `${d.model} ${d.version}` },
          { title: 'Region', cell: (d) => d.region },
          { title: 'Status', cell: (d) => d.status },
          { title: 'Threat Response', cell: (d) => d.threatResponse },
          { title: 'Last seen', cell: (d) => formatTime(d.lastSeenAt) },
        ]}
      />
    </>
  )
}

interface ApiClient {
  clientId: string
  name: string
  scopes: string[]
  status: string
  createdAt: number
  lastUsedAt: number | null
}

export function ApiClientsPage({ transport }: { transport: Transport }) {
  const clients = useLoad(() =>
    call<{ items: ApiClient[] }>(transport, 'GET', '/api/v1/api-clients'),
  )
  const [name, setName] = useState('')
  const [scopes, setScopes] = useState(RIBBON_SCOPES.join(' '))
  const [created, setCreated] = useState<{ clientId: string; clientSecret: string } | null>(null)
  return (
    <>
      <h1>API clients</h1>
      <ActionForm
        label="New API client"
        submit="Create API client"
        action={async () => {
          const answer = await call<{ clientId: string; clientSecret: string }>(
            transport,
            'POST',
            '/api/v1/api-clients',
            {
              name,
              scopes: scopes.split(/\s+/).filter(Boolean),
            },
          )
          setCreated(answer)
          clients.reload()
        }}
      >
        <Field label="Name" value={name} onChange={setName} required />
        <Field label="Scopes (separated by spaces)" value={scopes} onChange={setScopes} required />
      </ActionForm>
      {created && (
        <>
          <p>
            Client id:{' '}
            <span className="secret" aria-label="Client id">
              {created.clientId}
            </span>
          </p>
          <ShownOnce label="Client secret" value={created.clientSecret} />
        </>
      )}
      <Alert text={clients.error} />
      <Table
        label="API clients"
        rows={clients.data?.items ?? []}
        rowKey={(c) => c.clientId}
        columns={[
          { title: 'Name', cell: (c) => c.name },
          { title: 'Client id', cell: (c) => c.clientId },
          { title: 'Scopes', cell: (c) => c.scopes.join(' ') },
          { title: 'Status', cell: (c) => c.status },
          { title: 'Last used', cell: (c) => formatTime(c.lastUsedAt) },
          {
            title: 'Revoke',
            cell: (c) =>
              c.status === 'active' ? (
                <button
                  type="button"
                  aria-label={`Revoke ${c.name}`}
                  onClick={() =>
                    void call(
                      transport,
                      'DELETE',
                      `/api/v1/api-clients/${encodeURIComponent(c.clientId)}`,
                    ).then(clients.reload)
                  }
                >
                  Revoke
                </button>
              ) : (
                '—'
              ),
          },
        ]}
      />
    </>
  )
}

interface Approval {
  id: string
  action_id: string
  observable: { type: string; value: string }
  requested_by: Actor
  requested_at: string
  status: string
  decided_by: string | null
  comment: string | null
}

export function ApprovalsPage({ transport }: { transport: Transport }) {
  const approvals = useLoad(() =>
    call<{ items: Approval[] }>(transport, 'GET', '/api/v1/approvals'),
  )
  const [error, setError] = useState<string | null>(null)
  const decide = (id: string, verb: 'approve' | 'reject') =>
    call(transport, 'POST', `/api/v1/approvals/${encodeURIComponent(id)}/${verb}`, {}).then(
      () => approvals.reload(),
      (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
    )
  return (
    <>
      <h1>Approvals</h1>
      <Alert text={approvals.error ?? error} />
      <Table
        label="Action requests"
        rows={approvals.data?.items ?? []}
        rowKey={(a) => a.id}
        empty="No action waits for approval."
        columns={[
          { title: 'Action', cell: (a) => a.action_id },
          { title: 'Observable', cell: (a) => `${a.observable.type}: ${a.observable.value}` },
          { title: 'Requested by', cell: (a) => actorText(a.requested_by) },
          { title: 'Requested', cell: (a) => a.requested_at },
          {
            title: 'Status',
            cell: (a) => (a.decided_by ? `${a.status} by ${a.decided_by}` : a.status),
          },
          {
            title: 'Decision',
            cell: (a) =>
              a.status === 'pending' ? (
                <span className="row">
                  <button
                    type="button"
                    aria-label={`Approve ${a.action_id} on ${a.observable.value}`}
                    onClick={() => void decide(a.id, 'approve')}
                  >
                    Approve
                  </button>
                  <button
                    type="button"
                    aria-label={`Reject ${a.action_id} on ${a.observable.value}`}
                    onClick={() => void decide(a.id, 'reject')}
                  >
                    Reject
                  </button>
                </span>
              ) : (
                '—'
              ),
          },
        ]}
      />
    </>
  )
}

interface AuditEntry {
  id: number
  at: number
  actor: Actor
  source: string
  action: string
  outcome: string
  target: { type: string; id: string } | null
}

export function AuditPage({ transport }: { transport: Transport }) {
  const [action, setAction] = useState('')
  const [filter, setFilter] = useState('')
  const audit = useLoad(
    () =>
      call<{ total: number; items: AuditEntry[] }>(
        transport,
        'GET',
        `/api/v1/audit?limit=200${filter ? `&action=${encodeURIComponent(filter)}` : ''}`,
      ),
    [filter],
  )
  return (
    <>
      <h1>Audit log</h1>
      <ActionForm
        label="Filter the audit log"
        submit="Filter"
        action={async () => setFilter(action)}
      >
        <Field
          label="Action"
          value={action}
          onChange={setAction}
          placeholder="e.g. respond.trigger"
        />
      </ActionForm>
      <Alert text={audit.error} />
      <Table
        label="Audit entries"
        rows={audit.data?.items ?? []}
        rowKey={(e) => String(e.id)}
        columns={[
          { title: 'When', cell: (e) => formatTime(e.at) },
          { title: 'Actor', cell: (e) => actorText(e.actor) },
          { title: 'Action', cell: (e) => e.action },
          { title: 'Target', cell: (e) => (e.target ? `${e.target.type}:${e.target.id}` : '—') },
          { title: 'Outcome', cell: (e) => e.outcome },
          { title: 'Source', cell: (e) => e.source },
        ]}
      />
    </>
  )
}
