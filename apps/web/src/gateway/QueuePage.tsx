import { useState } from 'react'
import { call, formatTime, type Transport } from '../shared/api.js'
import { Obs } from '../shared/pivot.js'
import { Alert, Table, useLoad } from '../shared/ui.js'
import { MidLink } from './links.js'
import { useOutcome } from './outcome.js'
import { SelectField } from './SelectField.js'

interface QueueItem {
  mid: number
  state: 'processing' | 'active' | 'deferred' | 'held'
  busy: boolean
  from: string
  subject: string | null
  size: number
  receivedAt: number
  attempts: number
  nextAttemptAt: number | null
  lastError: string | null
  recipients: { address: string; status: 'pending' | 'done' }[]
}

type Summary = Record<'total' | 'processing' | 'active' | 'deferred' | 'held', number>

const STATES = ['held', 'deferred', 'active', 'processing', ''] as const
const ACTIONS = {
  hold: { method: 'POST', label: 'Hold', did: 'held' },
  release: { method: 'POST', label: 'Release', did: 'released for delivery' },
  bounce: { method: 'POST', label: 'Bounce', did: 'returned to its sender' },
  delete: { method: 'DELETE', label: 'Delete', did: 'deleted' },
} as const
type Action = keyof typeof ACTIONS

/**
 * Hold queue: messages waiting in the delivery queue (held by an operator or a policy by
 * default, or deferred); release one for delivery, bounce it back to its sender, delete it.
 */
export function QueuePage({ transport }: { transport: Transport }) {
  const [state, setState] = useState<string>('held')
  const summary = useLoad(() => call<Summary>(transport, 'GET', '/api/v1/queue/summary'))
  const list = useLoad(
    () =>
      call<{ total: number; items: QueueItem[] }>(
        transport,
        'GET',
        `/api/v1/queue?limit=200${state ? `&state=${state}` : ''}`,
      ),
    [state],
  )
  const outcome = useOutcome()
  const act = (item: QueueItem, action: Action) =>
    outcome.run(async () => {
      const { method } = ACTIONS[action]
      await call(
        transport,
        method,
        `/api/v1/queue/${item.mid}${action === 'delete' ? '' : `/${action}`}`,
      )
      list.reload()
      summary.reload()
      return `Message ${item.mid} ${ACTIONS[action].did}`
    })
  const actionsFor = (item: QueueItem): Action[] =>
    item.state === 'held' ? ['release', 'bounce', 'delete'] : ['hold', 'bounce', 'delete']

  return (
    <>
      <h1>Hold queue</h1>
      {summary.data && (
        <p aria-label="Queue summary">
          {summary.data.total} in the queue: {summary.data.held} held, {summary.data.deferred}{' '}
          deferred, {summary.data.active} active, {summary.data.processing} being processed
        </p>
      )}
      <SelectField
        label="Show"
        value={state}
        onChange={setState}
        options={STATES.map((s) => ({ value: s, label: s || 'everything' }))}
      />
      <Alert text={list.error ?? summary.error} />
      {outcome.view}
      {list.data && (
        <Table
          label="Queued messages"
          rows={list.data.items}
          rowKey={(r) => String(r.mid)}
          empty="Nothing waits here."
          columns={[
            { title: 'Received', cell: (r) => formatTime(r.receivedAt) },
            {
              title: 'MID',
              cell: (r) => <MidLink mid={r.mid} />,
            },
            { title: 'Sender', cell: (r) => <Obs type="email" value={r.from || '<>'} /> },
            {
              title: 'Recipients',
              cell: (r) =>
                r.recipients.map((a) => (
                  <span key={a.address}>
                    <Obs type="email" value={a.address} /> {a.status}
                  </span>
                )),
            },
            {
              title: 'Subject',
              cell: (r) => (r.subject ? <Obs type="email_subject" value={r.subject} /> : '—'),
            },
            { title: 'State', cell: (r) => (r.busy ? `${r.state} (busy)` : r.state) },
            {
              title: 'Last error',
              cell: (r) => (r.lastError ? `${r.lastError} (${r.attempts} attempts)` : '—'),
            },
            {
              title: 'Actions',
              cell: (r) => (
                <span className="row">
                  {actionsFor(r).map((action) => (
                    <button
                      key={action}
                      type="button"
                      disabled={outcome.busy || r.busy}
                      aria-label={`${ACTIONS[action].label} message ${r.mid}`}
                      onClick={() => void act(r, action)}
                    >
                      {ACTIONS[action].label}
                    </button>
                  ))}
                </span>
              ),
            },
          ]}
        />
      )}
    </>
  )
}
