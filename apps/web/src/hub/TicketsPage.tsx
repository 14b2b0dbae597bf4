import { useState } from 'react'
import { call, errorText, type Transport } from '../shared/api.js'
import type { Observable } from '../shared/observables.js'
import { ActionForm, Alert, Field, Table, useLoad } from '../shared/ui.js'
import { actorText, type Actor } from './actor.js'

interface TicketIntegration {
  id: string
  name: string
  kind: 'webhook' | 'email'
  enabled: boolean
  settings: Record<string, unknown>
}

interface Ticket {
  id: string
  subject_type: string
  subject: string
  title: string
  link: string
  status: string
  attempts: number
  last_error: string | null
  external_ref: string | null
  created_by: Actor
  created_at: string
}

export type TicketSubject =
  { type: 'observable'; observable: Observable } | { type: 'casebook' | 'incident'; id: string }

export function useTicketIntegrations(transport: Transport) {
  return useLoad(() =>
    call<{ items: TicketIntegration[] }>(transport, 'GET', '/api/v1/ticket-integrations'),
  )
}

/** "Create ticket" on an observable, a casebook or an incident, through one integration. */
export function CreateTicket({
  transport,
  subject,
  defaultTitle,
}: {
  transport: Transport
  subject: TicketSubject
  defaultTitle: string
}) {
  const integrations = useTicketIntegrations(transport)
  const [integration, setIntegration] = useState('')
  const [title, setTitle] = useState(defaultTitle)
  const [created, setCreated] = useState<Ticket | null>(null)
  const usable = (integrations.data?.items ?? []).filter((i) => i.enabled)
  if (integrations.error) return <Alert text={integrations.error} />
  if (usable.length === 0) return <p className="empty">No ticket integration (see Settings).</p>
  return (
    <ActionForm
      label="Create ticket"
      submit="Create ticket"
      action={async () => {
        setCreated(
          await call<Ticket>(transport, 'POST', '/api/v1/tickets', {
            integration: integration || usable[0]!.id,
            subject,
            title,
          }),
        )
      }}
    >
      <label className="field">
        <span>Ticket integration</span>
        <select value={integration} onChange={(event) => setIntegration(event.target.value)}>
          {usable.map((i) => (
            <option key={i.id} value={i.id}>
              {i.name} ({i.kind})
            </option>
          ))}
        </select>
      </label>
      <Field label="Ticket title" value={title} onChange={setTitle} required />
      {created && (
        <p role="status">
          Ticket {created.id}: {created.status}
          {created.last_error ? ` (${created.last_error})` : ''}
        </p>
      )}
    </ActionForm>
  )
}

export function TicketsPage({ transport }: { transport: Transport }) {
  const tickets = useLoad(() => call<{ items: Ticket[] }>(transport, 'GET', '/api/v1/tickets'))
  const [type, setType] = useState('email')
  const [value, setValue] = useState('')
  return (
    <>
      <h1>Tickets</h1>
      <h2>New ticket on an observable</h2>
      <div className="row">
        <label className="field">
          <span>Observable type</span>
          <select value={type} onChange={(event) => setType(event.target.value)}>
            {['email', 'domain', 'url', 'ip', 'sha256', 'email_messageid'].map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <Field label="Observable value" value={value} onChange={setValue} />
      </div>
      {value && (
        <CreateTicket
          transport={transport}
          subject={{ type: 'observable', observable: { type, value } }}
          defaultTitle={`Suspicious ${type} ${value}`}
        />
      )}
      <h2>Tickets</h2>
      <button type="button" onClick={tickets.reload}>
        Refresh tickets
      </button>
      <Alert text={tickets.error} />
      <Table
        label="Tickets"
        rows={tickets.data?.items ?? []}
        rowKey={(t) => t.id}
        empty="No ticket yet."
        columns={[
          { title: 'Title', cell: (t) => t.title },
          { title: 'On', cell: (t) => `${t.subject_type}: ${t.subject}` },
          {
            title: 'State',
            cell: (t) => (t.last_error ? `${t.status} (${t.last_error})` : t.status),
          },
          { title: 'Attempts', cell: (t) => String(t.attempts) },
          { title: 'Reference', cell: (t) => t.external_ref ?? '—' },
          { title: 'By', cell: (t) => actorText(t.created_by) },
          { title: 'Created', cell: (t) => t.created_at },
        ]}
      />
    </>
  )
}

/** Settings: the org's ticket integrations (webhook or e-mail). */
export function TicketIntegrations({ transport }: { transport: Transport }) {
  const integrations = useTicketIntegrations(transport)
  const [name, setName] = useState('')
  const [url, setUrl] = useState('')
  const [secret, setSecret] = useState('')
  const [error, setError] = useState<string | null>(null)
  return (
    <>
      <h2>Ticket integrations</h2>
      <ActionForm
        label="New webhook ticket integration"
        submit="Add webhook integration"
        action={async () => {
          await call(transport, 'POST', '/api/v1/ticket-integrations', {
            name,
            kind: 'webhook',
            settings: { url, secret },
          })
          setName('')
          setSecret('')
          integrations.reload()
        }}
      >
        <Field label="Integration name" value={name} onChange={setName} required />
        <Field label="Webhook URL" value={url} onChange={setUrl} required type="url" />
        <Field
          label="Signing secret (16 characters or more)"
          value={secret}
          onChange={setSecret}
          required
          type="password"
        />
      </ActionForm>
      <EmailIntegrationForm transport={transport} onAdded={integrations.reload} />
      <Alert text={integrations.error ?? error} />
      <Table
        label="Ticket integrations"
        rows={integrations.data?.items ?? []}
        rowKey={(i) => i.id}
        empty="No ticket integration."
        columns={[
          { title: 'Name', cell: (i) => i.name },
          { title: 'Kind', cell: (i) => i.kind },
          {
            title: 'Destination',
            cell: (i) =>
              String(
                i.kind === 'webhook' ? i.settings.url : (i.settings.to as string[]).join(', '),
              ),
          },
          { title: 'Enabled', cell: (i) => (i.enabled ? 'yes' : 'no') },
          {
            title: 'Remove',
            cell: (i) => (
              <button
                type="button"
                aria-label={`Remove ticket integration ${i.name}`}
                onClick={() =>
                  void call(
                    transport,
                    'DELETE',
                    `/api/v1/ticket-integrations/${encodeURIComponent(i.id)}`,
                  ).then(integrations.reload, (err: unknown) => setError(errorText(err)))
                }
              >
                Remove
              </button>
            ),
          },
        ]}
      />
    </>
  )
}

/** E-mail to the IT desk through an SMTP server: the password is sealed by the hub, never shown. */
function EmailIntegrationForm({ transport, onAdded }: { transport: Transport; onAdded(): void }) {
  const [name, setName] = useState('')
  const [host, setHost] = useState('')
  const [port, setPort] = useState('587')
  const [security, setSecurity] = useState('starttls')
  const [user, setUser] = useState('')
  const [password, setPassword] = useState('')
  const [from, setFrom] = useState('')
  const [to, setTo] = useState('')
  return (
    <ActionForm
      label="New e-mail ticket integration"
      submit="Add e-mail integration"
      action={async () => {
        await call(transport, 'POST', '/api/v1/ticket-integrations', {
          name,
          kind: 'email',
          settings: {
            smtp: {
              host,
              port: Number(port),
              security,
              ...(user ? { user, password } : {}),
            },
            from,
            to: to
              .split(',')
              .map((address) => address.trim())
              .filter((address) => address !== ''),
          },
        })
        setName('')
        setPassword('')
        onAdded()
      }}
    >
      <Field label="E-mail integration name" value={name} onChange={setName} required />
      <Field label="SMTP server" value={host} onChange={setHost} required />
      <Field label="SMTP port" value={port} onChange={setPort} required type="number" />
      <label className="field">
        <span>SMTP security</span>
        <select value={security} onChange={(event) => setSecurity(event.target.value)}>
          <option value="starttls">STARTTLS (required)</option>
          <option value="tls">TLS from the start (port 465)</option>
          <option value="none">None (test networks only)</option>
        </select>
      </label>
      <Field label="SMTP user (optional)" value={user} onChange={setUser} />
      <Field label="SMTP password" value={password} onChange={setPassword} type="password" />
      <Field label="From address" value={from} onChange={setFrom} required type="email" />
      <Field
        label="To addresses (comma-separated)"
        value={to}
        onChange={setTo}
        required
        placeholder="it-desk@example.com, soc@example.com"
      />
    </ActionForm>
  )
}
