import { useState } from 'react'
import { call, formatTime, type Transport } from '../shared/api.js'
import { Obs } from '../shared/pivot.js'
import { ActionForm, Alert, Field, Table, useLoad } from '../shared/ui.js'
import { useOutcome } from './outcome.js'
import { SelectField } from './SelectField.js'

const KINDS = [
  'sender_address',
  'sender_domain',
  'sender_ip',
  'url',
  'url_domain',
  'attachment_hash',
] as const
type Kind = (typeof KINDS)[number]

interface Entry {
  id: number
  kind: Kind
  value: string
  source: string
  reason: string
  createdBy: string
  createdAt: number
  expiresAt: number | null
}

/** The observable type of a block list value, for its pivot menu. */
function observableType(kind: Kind, value: string): string {
  switch (kind) {
    case 'sender_address':
      return 'email'
    case 'sender_domain':
    case 'url_domain':
      return 'domain'
    case 'sender_ip':
      return value.includes(':') ? 'ipv6' : 'ip'
    case 'url':
      return 'url'
    case 'attachment_hash':
      return value.length === 32 ? 'md5' : 'sha256'
  }
}

const label = (kind: string) => kind.replace('_', ' ')
const KIND_OPTIONS = KINDS.map((k) => ({ value: k, label: label(k) }))

/**
 * Block lists: search the entries, add one with a reason and an optional expiry, remove one.
 * The gateway normalises values (and accepts defanged ones); changes are audited.
 */
export function BlocklistsPage({ transport }: { transport: Transport }) {
  const [filter, setFilter] = useState({ kind: '', search: '', includeExpired: false })
  const [applied, setApplied] = useState(filter)
  const list = useLoad(() => {
    const query = new URLSearchParams({ limit: '200' })
    if (applied.kind) query.set('kind', applied.kind)
    if (applied.search) query.set('search', applied.search)
    if (applied.includeExpired) query.set('includeExpired', 'true')
    return call<{ total: number; entries: Entry[] }>(
      transport,
      'GET',
      `/api/v1/blocklists?${query.toString()}`,
    )
  }, [applied])
  const [draft, setDraft] = useState({
    kind: 'sender_domain' as Kind,
    value: '',
    reason: '',
    expires: '',
  })
  const outcome = useOutcome()

  const add = async () => {
    const entry = await call<Entry>(transport, 'POST', '/api/v1/blocklists', {
      kind: draft.kind,
      value: draft.value,
      reason: draft.reason,
      expiresAt: draft.expires ? new Date(draft.expires).getTime() : null,
    })
    setDraft({ ...draft, value: '', reason: '', expires: '' })
    list.reload()
    outcome.report(`Blocked ${label(entry.kind)} ${entry.value}`)
  }
  const remove = (entry: Entry) =>
    outcome.run(async () => {
      await call(transport, 'DELETE', `/api/v1/blocklists/${entry.id}`)
      list.reload()
      return `Removed ${label(entry.kind)} ${entry.value}`
    })

  return (
    <>
      <h1>Block lists</h1>
      <h2>Add an entry</h2>
      <ActionForm label="Add a block list entry" submit="Add to block list" action={add}>
        <SelectField
          label="Kind"
          value={draft.kind}
          onChange={(kind) => setDraft({ ...draft, kind: kind as Kind })}
          options={KIND_OPTIONS}
        />
        <Field
          label="Value to block"
          value={draft.value}
          onChange={(value) => setDraft({ ...draft, value })}
          required
        />
        <Field
          label="Reason"
          value={draft.reason}
          onChange={(reason) => setDraft({ ...draft, reason })}
          required
        />
        <Field
          label="Expires (empty: never)"
          type="datetime-local"
          value={draft.expires}
          onChange={(expires) => setDraft({ ...draft, expires })}
        />
      </ActionForm>
      <h2>Entries</h2>
      <ActionForm
        label="Search the block lists"
        submit="Search"
        action={async () => setApplied({ ...filter })}
      >
        <SelectField
          label="Only kind"
          value={filter.kind}
          onChange={(kind) => setFilter({ ...filter, kind })}
          options={[{ value: '', label: 'all' }, ...KIND_OPTIONS]}
        />
        <Field
          label="Value contains"
          value={filter.search}
          onChange={(search) => setFilter({ ...filter, search })}
        />
        <label>
          <input
            type="checkbox"
            checked={filter.includeExpired}
            onChange={(e) => setFilter({ ...filter, includeExpired: e.target.checked })}
          />{' '}
          Include expired entries
        </label>
      </ActionForm>
      <Alert text={list.error} />
      {outcome.view}
      {list.data && <p>{list.data.total} entries</p>}
      {list.data && (
        <Table
          label="Block list entries"
          rows={list.data.entries}
          rowKey={(r) => String(r.id)}
          empty="No entry matches."
          columns={[
            { title: 'Kind', cell: (r) => label(r.kind) },
            {
              title: 'Value',
              cell: (r) => <Obs type={observableType(r.kind, r.value)} value={r.value} />,
            },
            { title: 'Reason', cell: (r) => r.reason },
            { title: 'Source', cell: (r) => `${r.source} (${r.createdBy})` },
            { title: 'Added', cell: (r) => formatTime(r.createdAt) },
            { title: 'Expires', cell: (r) => (r.expiresAt ? formatTime(r.expiresAt) : 'never') },
            {
              title: 'Actions',
              cell: (r) => (
                <button
                  type="button"
                  disabled={outcome.busy}
                  aria-label={`Remove ${label(r.kind)} ${r.value}`}
                  onClick={() => void remove(r)}
                >
                  Remove
                </button>
              ),
            },
          ]}
        />
      )}
    </>
  )
}
