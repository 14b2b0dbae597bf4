import { useEffect, useState } from 'react'
import { call, errorText, formatTime, type Transport } from '../shared/api.js'
import { Obs } from '../shared/pivot.js'
import { ActionForm, Alert, Field, Table } from '../shared/ui.js'
import { HeaderAddress, MidLink } from './links.js'

const OPERATORS = ['is', 'begins_with', 'contains'] as const
const VERDICTS = [
  'spam',
  'virus',
  'malformed',
  'quarantined',
  'policy',
  'blocked',
  'authentication_failed',
]
const STATUSES = [
  '',
  'delivered',
  'quarantined',
  'bounced',
  'rejected',
  'deferred',
  'queued',
  'held',
  'dropped',
  'deleted',
]

export interface SearchRow {
  mid: number
  receivedAt: number
  direction: string
  senderIp: string
  envelopeSender: string
  recipients: string[]
  subject: string | null
  messageId: string | null
  status: string
  verdicts: string[]
}

interface TextFilter {
  operator: (typeof OPERATORS)[number]
  value: string
}

/** Which search field a pivot from another page fills (observable type → field). */
const PIVOT_FIELDS: Record<string, string> = {
  email: 'sender',
  domain: 'domain',
  url: 'url',
  ip: 'senderIp',
  sha256: 'hash',
  md5: 'hash',
  file_name: 'attachment',
  email_subject: 'subject',
  email_messageid: 'messageId',
}

function TextField({
  label,
  filter,
  onChange,
}: {
  label: string
  filter: TextFilter
  onChange(f: TextFilter): void
}) {
  return (
    <span className="row">
      <label className="field">
        <span>{label} operator</span>
        <select
          value={filter.operator}
          onChange={(e) =>
            onChange({ ...filter, operator: e.target.value as TextFilter['operator'] })
          }
        >
          {OPERATORS.map((o) => (
            <option key={o} value={o}>
              {o.replace('_', ' ')}
            </option>
          ))}
        </select>
      </label>
      <Field
        label={label}
        value={filter.value}
        onChange={(value) => onChange({ ...filter, value })}
      />
    </span>
  )
}

/**
 * Message Tracking (seed §2): the tracking search grammar (envelope sender and recipient, subject
 * with is / begins with / contains, Message-ID, sender IP, URL, attachment, verdicts, status,
 * time range), the result table with a pivot on every observable, and the message detail.
 */
export function TrackingPage({
  transport,
  params,
}: {
  transport: Transport
  params: URLSearchParams
}) {
  const empty = (): TextFilter => ({ operator: 'is', value: '' })
  const [sender, setSender] = useState(empty)
  const [recipient, setRecipient] = useState(empty)
  const [subject, setSubject] = useState<TextFilter>({ operator: 'contains', value: '' })
  const [attachment, setAttachment] = useState(empty)
  const [simple, setSimple] = useState<Record<string, string>>({})
  const [verdicts, setVerdicts] = useState<string[]>([])
  const [rows, setRows] = useState<SearchRow[] | null>(null)
  const [total, setTotal] = useState(0)
  const mid = params.get('mid')

  const search = async (overrides: Record<string, string> = {}) => {
    const fields = { ...simple, ...overrides }
    const text = (f: TextFilter) =>
      f.value.trim() ? [{ operator: f.operator, value: f.value.trim() }] : []
    const body: Record<string, unknown> = {
      envelopeSenders: text(
        overrides.sender ? { operator: 'is', value: overrides.sender } : sender,
      ),
      envelopeRecipients: text(recipient),
      subjects: text(overrides.subject ? { operator: 'is', value: overrides.subject } : subject),
      attachmentNames: text(
        overrides.attachment ? { operator: 'is', value: overrides.attachment } : attachment,
      ),
      verdicts,
      limit: 100,
    }
    if (fields.messageId) body.messageId = fields.messageId
    if (fields.senderIp) body.senderIp = fields.senderIp
    if (fields.url) body.urls = [fields.url]
    if (fields.domain) body.domains = [fields.domain]
    if (fields.hash) body.attachmentHashes = [fields.hash]
    if (fields.status) body.statuses = [fields.status]
    if (fields.since) body.since = new Date(fields.since).toISOString()
    if (fields.until) body.until = new Date(fields.until).toISOString()
    const answer = await call<{ data: SearchRow[]; meta: { total: number } }>(
      transport,
      'POST',
      '/api/v1/tracking/search',
      body,
    )
    setRows(answer.data)
    setTotal(answer.meta.total)
  }

  const pivotType = params.get('type')
  const pivotValue = params.get('value')
  const [pivotError, setPivotError] = useState<string | null>(null)
  useEffect(() => {
    if (!pivotType || !pivotValue) return
    const field = PIVOT_FIELDS[pivotType]
    if (!field) return
    search({ [field]: pivotValue }).catch((err: unknown) => setPivotError(errorText(err)))
  }, [pivotType, pivotValue])

  if (mid) return <MessageDetail transport={transport} mid={Number(mid)} />
  const set = (key: string) => (value: string) => setSimple({ ...simple, [key]: value })
  return (
    <>
      <h1>Message Tracking</h1>
      <ActionForm label="Search messages" submit="Search" action={() => search()}>
        <TextField label="Envelope sender" filter={sender} onChange={setSender} />
        <TextField label="Envelope recipient" filter={recipient} onChange={setRecipient} />
        <TextField label="Subject" filter={subject} onChange={setSubject} />
        <TextField label="Attachment name" filter={attachment} onChange={setAttachment} />
        <Field label="Message-ID" value={simple.messageId ?? ''} onChange={set('messageId')} />
        <Field label="Sender IP" value={simple.senderIp ?? ''} onChange={set('senderIp')} />
        <Field label="URL" value={simple.url ?? ''} onChange={set('url')} />
        <Field label="Domain" value={simple.domain ?? ''} onChange={set('domain')} />
        <Field label="Attachment hash" value={simple.hash ?? ''} onChange={set('hash')} />
        <Field
          label="Received since"
          type="datetime-local"
          value={simple.since ?? ''}
          onChange={set('since')}
        />
        <Field
          label="Received until"
          type="datetime-local"
          value={simple.until ?? ''}
          onChange={set('until')}
        />
        <label className="field">
          <span>Status</span>
          <select value={simple.status ?? ''} onChange={(e) => set('status')(e.target.value)}>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || 'any'}
              </option>
            ))}
          </select>
        </label>
        <fieldset className="row">
          <legend>Verdicts</legend>
          {VERDICTS.map((v) => (
            <label key={v}>
              <input
                type="checkbox"
                checked={verdicts.includes(v)}
                onChange={(e) =>
                  setVerdicts(e.target.checked ? [...verdicts, v] : verdicts.filter((x) => x !== v))
                }
              />{' '}
              {v.replace('_', ' ')}
            </label>
          ))}
        </fieldset>
      </ActionForm>
      <Alert text={pivotError} />
      {rows && <p role="status">{total} messages</p>}
      {rows && <ResultTable rows={rows} />}
    </>
  )
}

export function ResultTable({ rows }: { rows: SearchRow[] }) {
  return (
    <Table
      label="Messages"
      rows={rows}
      rowKey={(r) => String(r.mid)}
      empty="No message matches."
      columns={[
        { title: 'Received', cell: (r) => formatTime(r.receivedAt) },
        {
          title: 'MID',
          cell: (r) => <MidLink mid={r.mid} />,
        },
        { title: 'Sender', cell: (r) => <Obs type="email" value={r.envelopeSender || '<>'} /> },
        {
          title: 'Recipients',
          cell: (r) => r.recipients.map((a) => <Obs key={a} type="email" value={a} />),
        },
        {
          title: 'Subject',
          cell: (r) => (r.subject ? <Obs type="email_subject" value={r.subject} /> : '—'),
        },
        { title: 'Sender IP', cell: (r) => <Obs type="ip" value={r.senderIp} /> },
        { title: 'Status', cell: (r) => r.status },
        { title: 'Verdicts', cell: (r) => r.verdicts.join(', ') || '—' },
      ]}
    />
  )
}

/** One mailbox of a remediation run: what was done there, through which profile. */
interface RemediationTarget {
  recipient: string
  profile: string | null
  status: 'pending' | 'done' | 'not_found' | 'failed'
  forwarded: boolean
  deleted: boolean
  folders: string[]
  error: { code: string; message: string } | null
}

const REMEDIATION_ACTIONS = [
  { action: 'delete', label: 'Delete from mailboxes' },
  { action: 'forward', label: 'Forward' },
  { action: 'forward-delete', label: 'Forward and delete' },
] as const

const done = (t: RemediationTarget) =>
  [t.forwarded ? 'forwarded' : '', t.deleted ? 'deleted' : ''].filter(Boolean).join(', ') || '—'

function RemediationTable({
  label,
  rows,
  empty,
}: {
  label: string
  rows: RemediationTarget[]
  empty: string
}) {
  return (
    <Table
      label={label}
      rows={rows}
      rowKey={(r) => r.recipient}
      empty={empty}
      columns={[
        { title: 'Recipient', cell: (r) => <Obs type="email" value={r.recipient} /> },
        { title: 'Profile', cell: (r) => r.profile ?? '—' },
        { title: 'Result', cell: (r) => r.status.replace('_', ' ') },
        { title: 'Done', cell: done },
        { title: 'Folders', cell: (r) => r.folders.join(', ') || '—' },
        { title: 'Error', cell: (r) => (r.error ? `${r.error.code}: ${r.error.message}` : '—') },
      ]}
    />
  )
}

interface Detail {
  message: SearchRow & {
    headerFrom: string | null
    headerTo: string | null
    helo: string | null
    tls: string | null
    listener: string
  }
  recipients: { address: string; status: string; lastReply: string | null; attempts: number }[]
  events: {
    id: number
    at: number
    event: string
    recipient: string | null
    details: Record<string, unknown>
  }[]
  analysis: {
    verdicts: string[]
    spf: string | null
    dkim: string | null
    dmarc: string | null
    policy: string | null
  } | null
  urls: { url: string; domain: string }[]
  attachments: { index: number; filename: string | null; sha256: string | null; size: number }[]
  remediation: (RemediationTarget & {
    run: { action: string; createdAt: number; actor: { type: string; id: string }; reason: string }
  })[]
}

function MessageDetail({ transport, mid }: { transport: Transport; mid: number }) {
  const [detail, setDetail] = useState<Detail | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [forwardTo, setForwardTo] = useState('')
  const [reason, setReason] = useState('')
  const [outcome, setOutcome] = useState<{ summary: string; targets: RemediationTarget[] } | null>(
    null,
  )
  const [remediationError, setRemediationError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const load = () =>
    call<Detail>(transport, 'GET', `/api/v1/tracking/messages/${mid}/detail`).then(
      setDetail,
      (e: unknown) => setError(errorText(e)),
    )
  useEffect(() => {
    void load()
  }, [mid])

  // `wait` makes the gateway answer with every mailbox's result, shown at once.
  const remediate = async (action: (typeof REMEDIATION_ACTIONS)[number]['action']) => {
    setBusy(true)
    setRemediationError(null)
    try {
      const answer = await call<{
        run: { status: string; counts: { done: number; notFound: number; failed: number } }
        targets: RemediationTarget[]
      }>(transport, 'POST', '/api/v1/remediation', {
        action,
        mids: [mid],
        ...(action === 'delete' || !forwardTo.trim()
          ? {}
          : { forwardTo: forwardTo.split(/[\s,]+/).filter(Boolean) }),
        reason: reason.trim() || 'remediated from the gateway console',
        wait: true,
      })
      const c = answer.run.counts
      setOutcome({
        summary: `Remediation ${answer.run.status}: ${c.done} done, ${c.notFound} not found, ${c.failed} failed`,
        targets: answer.targets,
      })
      await load()
    } catch (err) {
      setRemediationError(errorText(err))
    } finally {
      setBusy(false)
    }
  }

  if (error) return <Alert text={error} />
  if (!detail) return <p>Loading…</p>
  const m = detail.message
  return (
    <>
      <p>
        <a href="#/tracking">Back to search</a>
      </p>
      <h1>Message {m.mid}</h1>
      <table aria-label="Envelope and headers">
        <tbody>
          <tr>
            <th scope="row">Subject</th>
            <td>{m.subject ? <Obs type="email_subject" value={m.subject} /> : '—'}</td>
          </tr>
          <tr>
            <th scope="row">Envelope sender</th>
            <td>
              <Obs type="email" value={m.envelopeSender || '<>'} />
            </td>
          </tr>
          <tr>
            <th scope="row">From header</th>
            <td>
              <HeaderAddress value={m.headerFrom} />
            </td>
          </tr>
          <tr>
            <th scope="row">Message-ID</th>
            <td>{m.messageId ? <Obs type="email_messageid" value={m.messageId} /> : '—'}</td>
          </tr>
          <tr>
            <th scope="row">Sender IP</th>
            <td>
              <Obs type="ip" value={m.senderIp} />
            </td>
          </tr>
          <tr>
            <th scope="row">Status</th>
            <td>{m.status}</td>
          </tr>
          <tr>
            <th scope="row">Verdicts</th>
            <td>{detail.analysis?.verdicts.join(', ') || '—'}</td>
          </tr>
          <tr>
            <th scope="row">Authentication</th>
            <td>
              SPF {detail.analysis?.spf ?? '—'}, DKIM {detail.analysis?.dkim ?? '—'}, DMARC{' '}
              {detail.analysis?.dmarc ?? '—'}
            </td>
          </tr>
        </tbody>
      </table>
      <h2>Recipients</h2>
      <Table
        label="Recipients"
        rows={detail.recipients}
        rowKey={(r) => r.address}
        columns={[
          { title: 'Recipient', cell: (r) => <Obs type="email" value={r.address} /> },
          { title: 'Status', cell: (r) => r.status },
          { title: 'Last reply', cell: (r) => r.lastReply ?? '—' },
        ]}
      />
      <h2>URLs and attachments</h2>
      <ul>
        {detail.urls.map((u) => (
          <li key={u.url}>
            <Obs type="url" value={u.url} />
          </li>
        ))}
        {detail.attachments.map((a) => (
          <li key={a.index}>
            {a.filename ? <Obs type="file_name" value={a.filename} /> : 'attachment'}{' '}
            {a.sha256 && <Obs type="sha256" value={a.sha256} />}
          </li>
        ))}
      </ul>
      <h2>Timeline</h2>
      <ol className="timeline" aria-label="Timeline">
        {detail.events.map((e) => (
          <li key={e.id}>
            {formatTime(e.at)} {e.event}
            {e.recipient ? ` ${e.recipient}` : ''}
          </li>
        ))}
      </ol>
      <h2>Remediation</h2>
      <section aria-label="Remediate" className="row">
        <Field
          label="Forward to (empty: the configured address)"
          value={forwardTo}
          onChange={setForwardTo}
        />
        <Field label="Reason" value={reason} onChange={setReason} />
        {REMEDIATION_ACTIONS.map((a) => (
          <button
            key={a.action}
            type="button"
            disabled={busy}
            onClick={() => void remediate(a.action)}
          >
            {a.label}
          </button>
        ))}
      </section>
      <Alert text={remediationError} />
      {outcome && (
        <>
          <p role="status">{outcome.summary}</p>
          <RemediationTable
            label="Remediation result per recipient"
            rows={outcome.targets}
            empty="No delivered recipient to remediate."
          />
        </>
      )}
      <h3>History</h3>
      <Table
        label="Remediation history"
        rows={detail.remediation}
        rowKey={(r) => `${r.run.createdAt}-${r.recipient}`}
        empty="Not remediated."
        columns={[
          { title: 'When', cell: (r) => formatTime(r.run.createdAt) },
          { title: 'Action', cell: (r) => r.run.action },
          { title: 'By', cell: (r) => `${r.run.actor.id} (${r.run.reason || 'no reason'})` },
          { title: 'Recipient', cell: (r) => <Obs type="email" value={r.recipient} /> },
          { title: 'Profile', cell: (r) => r.profile ?? '—' },
          { title: 'Result', cell: (r) => r.status.replace('_', ' ') },
          { title: 'Done', cell: done },
          {
            title: 'Error',
            cell: (r) => (r.error ? `${r.error.code}: ${r.error.message}` : '—'),
          },
        ]}
      />
    </>
  )
}
