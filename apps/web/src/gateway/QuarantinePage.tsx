import { useState } from 'react'
import { call, formatTime, type Transport } from '../shared/api.js'
import { Obs } from '../shared/pivot.js'
import { ActionForm, Alert, Field, Table, useLoad } from '../shared/ui.js'
import { HeaderAddress, MidLink } from './links.js'
import { useOutcome } from './outcome.js'
import { SelectField } from './SelectField.js'

export interface QuarantineItem {
  id: number
  mid: number
  quarantine: string
  status: 'held' | 'released' | 'deleted' | 'expired'
  reason: string
  envelopeSender: string
  recipients: string[]
  subject: string | null
  headerFrom: string | null
  size: number
  createdAt: number
  expiresAt: number
  resolvedAt: number | null
  resolvedBy: string | null
}

interface QuarantineView {
  item: QuarantineItem
  headers: { name: string; value: string }[]
  text: string | null
  attachments: { filename: string | null; type: string; size: number; sha256: string }[]
  urls: string[]
}

const STATUSES = ['held', 'released', 'deleted', 'expired', ''] as const
const ACTION_LABELS = { release: 'Release', delete: 'Delete' } as const

/**
 * Quarantine: what the policies held, searchable; a safe view of one message (headers, its
 * text part and what it carries, all as text: the gateway never sends its HTML), release
 * through the delivery queue and delete.
 */
export function QuarantinePage({ transport }: { transport: Transport }) {
  const [filter, setFilter] = useState({ quarantine: '', status: 'held', search: '' })
  const [applied, setApplied] = useState(filter)
  const names = useLoad(() =>
    call<{ quarantines: { name: string; held: number }[] }>(
      transport,
      'GET',
      '/api/v1/quarantines',
    ),
  )
  const list = useLoad(() => {
    const query = new URLSearchParams({ limit: '100' })
    for (const [key, value] of Object.entries(applied)) if (value) query.set(key, value)
    return call<{ total: number; items: QuarantineItem[] }>(
      transport,
      'GET',
      `/api/v1/quarantine/messages?${query.toString()}`,
    )
  }, [applied])
  const [viewing, setViewing] = useState<QuarantineView | null>(null)
  const outcome = useOutcome()

  const view = (item: QuarantineItem) =>
    outcome.run(async () => {
      setViewing(
        await call<QuarantineView>(transport, 'GET', `/api/v1/quarantine/messages/${item.id}/view`),
      )
      return `Showing quarantined message ${item.id}`
    })
  const act = (item: QuarantineItem, action: 'release' | 'delete') =>
    outcome.run(async () => {
      const after = await call<QuarantineItem>(
        transport,
        action === 'release' ? 'POST' : 'DELETE',
        `/api/v1/quarantine/messages/${item.id}${action === 'release' ? '/release' : ''}`,
      )
      setViewing(null)
      list.reload()
      return `Message ${item.mid} ${after.status}`
    })

  return (
    <>
      <h1>Quarantine</h1>
      <ActionForm
        label="Search the quarantine"
        submit="Search"
        action={async () => setApplied({ ...filter })}
      >
        <SelectField
          label="Quarantine"
          value={filter.quarantine}
          onChange={(quarantine) => setFilter({ ...filter, quarantine })}
          options={[
            { value: '', label: 'all' },
            ...(names.data?.quarantines ?? []).map((q) => ({
              value: q.name,
              label: `${q.name} (${q.held} held)`,
            })),
          ]}
        />
        <SelectField
          label="Status"
          value={filter.status}
          onChange={(status) => setFilter({ ...filter, status })}
          options={STATUSES.map((s) => ({ value: s, label: s || 'any' }))}
        />
        <Field
          label="Sender, recipient or subject contains"
          value={filter.search}
          onChange={(search) => setFilter({ ...filter, search })}
        />
      </ActionForm>
      <Alert text={list.error ?? names.error} />
      {outcome.view}
      {list.data && <p>{list.data.total} quarantined messages</p>}
      {list.data && (
        <Table
          label="Quarantined messages"
          rows={list.data.items}
          rowKey={(r) => String(r.id)}
          empty="Nothing is quarantined."
          columns={[
            { title: 'Held', cell: (r) => formatTime(r.createdAt) },
            {
              title: 'MID',
              cell: (r) => <MidLink mid={r.mid} />,
            },
            { title: 'Quarantine', cell: (r) => r.quarantine },
            { title: 'Sender', cell: (r) => <Obs type="email" value={r.envelopeSender || '<>'} /> },
            { title: 'From header', cell: (r) => <HeaderAddress value={r.headerFrom} /> },
            {
              title: 'Recipients',
              cell: (r) => r.recipients.map((a) => <Obs key={a} type="email" value={a} />),
            },
            {
              title: 'Subject',
              cell: (r) => (r.subject ? <Obs type="email_subject" value={r.subject} /> : '—'),
            },
            { title: 'Reason', cell: (r) => r.reason },
            {
              title: 'Status',
              cell: (r) => (r.resolvedBy ? `${r.status} by ${r.resolvedBy}` : r.status),
            },
            { title: 'Expires', cell: (r) => formatTime(r.expiresAt) },
            {
              title: 'Actions',
              cell: (r) => (
                <span className="row">
                  <button
                    type="button"
                    disabled={outcome.busy}
                    aria-label={`View quarantined message ${r.id}`}
                    onClick={() => void view(r)}
                  >
                    View
                  </button>
                  {r.status === 'held' &&
                    (['release', 'delete'] as const).map((action) => (
                      <button
                        key={action}
                        type="button"
                        disabled={outcome.busy}
                        aria-label={`${ACTION_LABELS[action]} message ${r.mid}`}
                        onClick={() => void act(r, action)}
                      >
                        {ACTION_LABELS[action]}
                      </button>
                    ))}
                </span>
              ),
            },
          ]}
        />
      )}
      {viewing && <QuarantinedMessage view={viewing} onClose={() => setViewing(null)} />}
    </>
  )
}

const ADDRESS_HEADERS = new Set(['from', 'to', 'cc', 'reply-to', 'sender', 'return-path'])

/** A header value as text, with the pivot menu where it is one observable. */
function HeaderValue({ name, value }: { name: string; value: string }) {
  const lower = name.toLowerCase()
  if (ADDRESS_HEADERS.has(lower)) return <HeaderAddress value={value} />
  if (lower === 'subject') return <Obs type="email_subject" value={value} />
  if (lower === 'message-id') return <Obs type="email_messageid" value={value.trim()} />
  return <>{value}</>
}

/** One quarantined message, every part of it as text. */
function QuarantinedMessage({ view, onClose }: { view: QuarantineView; onClose(): void }) {
  return (
    <section aria-label={`Quarantined message ${view.item.id}`} className="card">
      <h2>Quarantined message {view.item.id}</h2>
      <button type="button" onClick={onClose}>
        Close the message
      </button>
      <table aria-label="Headers">
        <tbody>
          {view.headers.map((h, i) => (
            <tr key={`${i}-${h.name}`}>
              <th scope="row">{h.name}</th>
              <td>
                <HeaderValue name={h.name} value={h.value} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Text</h3>
      <pre className="message-text" aria-label="Message text">
        {view.text ?? '(no text part)'}
      </pre>
      <h3>URLs and attachments</h3>
      <ul>
        {view.urls.map((u) => (
          <li key={u}>
            <Obs type="url" value={u} />
          </li>
        ))}
        {view.attachments.map((a) => (
          <li key={`${a.sha256}-${a.filename ?? ''}`}>
            {a.filename ? <Obs type="file_name" value={a.filename} /> : 'attachment'} ({a.type},{' '}
            {a.size} bytes) <Obs type="sha256" value={a.sha256} />
          </li>
        ))}
      </ul>
    </section>
  )
}
