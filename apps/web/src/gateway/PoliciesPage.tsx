import { useEffect, useState } from 'react'
import { call, formatTime, type Transport } from '../shared/api.js'
import { ActionForm, Alert, Table, useLoad } from '../shared/ui.js'
import { useOutcome } from './outcome.js'

interface Rule {
  name: string
  when?: unknown
  then: unknown
}

interface Policy {
  name: string
  senders?: string[]
  recipients?: string[]
  rules: Rule[]
}

interface PolicyDocument {
  source: 'configuration' | 'console'
  document: { incoming?: Policy[]; outgoing?: Policy[] } & Record<string, unknown>
  updatedAt: number | null
  updatedBy: string | null
  quarantines: string[]
}

const compact = (value: unknown) => (value === undefined ? 'always' : JSON.stringify(value))

/**
 * Mail policies: the incoming and outgoing policies in use, rule by rule, and an editor for the
 * whole document (the configuration's `policies` keys). The gateway validates and compiles
 * what is saved and answers where and why it is wrong; nothing changes until it is valid.
 */
export function PoliciesPage({ transport }: { transport: Transport }) {
  const current = useLoad(() => call<PolicyDocument>(transport, 'GET', '/api/v1/policies'))
  const [text, setText] = useState('')
  const outcome = useOutcome()
  useEffect(() => {
    if (current.data) setText(JSON.stringify(current.data.document, null, 2))
  }, [current.data])

  const save = async () => {
    let document: unknown
    try {
      document = JSON.parse(text)
    } catch (err) {
      throw new Error(`The document is not JSON: ${(err as Error).message}`)
    }
    await call(transport, 'PUT', '/api/v1/policies', { document })
    current.reload()
    outcome.report('Mail policies saved and in use')
  }
  const reset = () =>
    outcome.run(async () => {
      await call(transport, 'DELETE', '/api/v1/policies')
      current.reload()
      return 'The configuration’s mail policies are in use again'
    })

  const data = current.data
  return (
    <>
      <h1>Mail policies</h1>
      <Alert text={current.error} />
      {outcome.view}
      {data && (
        <p>
          {data.source === 'console'
            ? `Edited in the console by ${data.updatedBy ?? '?'} at ${formatTime(data.updatedAt)}.`
            : 'As configured (pipeline.policies).'}{' '}
          Quarantines a rule may use: {data.quarantines.join(', ')}.
        </p>
      )}
      {data &&
        (['incoming', 'outgoing'] as const).map((direction) => (
          <section key={direction} aria-label={`${direction} policies`}>
            <h2>{direction === 'incoming' ? 'Incoming' : 'Outgoing'} policies</h2>
            {(data.document[direction] ?? []).map((policy) => (
              <div key={policy.name}>
                <h3>
                  {policy.name}
                  {policy.senders ? ` — senders ${policy.senders.join(', ')}` : ''}
                  {policy.recipients ? ` — recipients ${policy.recipients.join(', ')}` : ''}
                </h3>
                <Table
                  label={`Rules of ${direction} policy ${policy.name}`}
                  rows={policy.rules}
                  rowKey={(r) => r.name}
                  empty="No rules: mail is delivered."
                  columns={[
                    { title: 'Rule', cell: (r) => r.name },
                    { title: 'When', cell: (r) => <code>{compact(r.when)}</code> },
                    { title: 'Then', cell: (r) => <code>{compact(r.then)}</code> },
                  ]}
                />
              </div>
            ))}
          </section>
        ))}
      <h2>Edit</h2>
      <ActionForm label="Edit the mail policies" submit="Save policies" action={save}>
        <label className="field">
          <span>Policies document (JSON: groups, lists, incoming, outgoing)</span>
          <textarea
            rows={24}
            cols={100}
            spellCheck={false}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        </label>
      </ActionForm>
      {data?.source === 'console' && (
        <button type="button" disabled={outcome.busy} onClick={() => void reset()}>
          Use the configuration’s policies again
        </button>
      )}
    </>
  )
}
