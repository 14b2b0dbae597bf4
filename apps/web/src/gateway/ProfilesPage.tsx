import { useState } from 'react'
import { call, formatTime, type Transport } from '../shared/api.js'
import { Obs } from '../shared/pivot.js'
import { ActionForm, Alert, Field, Table, useLoad } from '../shared/ui.js'
import { useOutcome } from './outcome.js'
import { SelectField } from './SelectField.js'

type Kind = 'imap' | 'doveadm' | 'maildir' | 'graph' | 'chained'

interface Profile {
  name: string
  kind: Kind
  description: string
  domains: string[]
  enabled: boolean
  settings: Record<string, unknown>
  /** Names of the secrets that are set: the values never leave the gateway. */
  secretsSet: string[]
  updatedAt: number
  updatedBy: string
}

/** What a new profile of each kind starts with, and the secret it needs (docs/remediation.md). */
const KINDS: Record<
  Kind,
  { settings: Record<string, unknown>; secret: string | null; label: string }
> = {
  imap: {
    settings: {
      host: 'imap.example.com',
      port: 993,
      security: 'tls',
      masterUser: 'postern-master',
    },
    secret: 'masterPassword',
    label: 'Master password',
  },
  doveadm: {
    settings: { url: 'https://mail.example.com:8080/doveadm/v1' },
    secret: 'apiKey',
    label: 'doveadm API key',
  },
  maildir: { settings: { pathTemplate: '/var/vmail/%d/%n/Maildir' }, secret: null, label: '' },
  graph: {
    settings: { tenantId: '', clientId: '' },
    secret: 'clientSecret',
    label: 'Client secret',
  },
  chained: { settings: { profiles: [] }, secret: null, label: '' },
}

interface Draft {
  name: string
  kind: Kind
  description: string
  domains: string
  enabled: boolean
  settings: string
  secret: string
}

const newDraft = (kind: Kind = 'imap'): Draft => ({
  name: '',
  kind,
  description: '',
  domains: '',
  enabled: true,
  settings: JSON.stringify(KINDS[kind].settings, null, 2),
  secret: '',
})

const draftOf = (p: Profile): Draft => ({
  name: p.name,
  kind: p.kind,
  description: p.description,
  domains: p.domains.join(', '),
  enabled: p.enabled,
  settings: JSON.stringify(p.settings, null, 2),
  secret: '',
})

function parseSettings(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch (err) {
    throw new Error(`Settings are not JSON: ${(err as Error).message}`)
  }
}

/**
 * Account Settings: the remediation profiles that reach recipients' mailboxes (IMAP master
 * user, Maildir, Microsoft Graph, chained). Secrets are write-only: the page sends a new one
 * or nothing, and the gateway answers only which secrets are set.
 */
export function ProfilesPage({ transport }: { transport: Transport }) {
  const list = useLoad(() =>
    call<{ profiles: Profile[] }>(transport, 'GET', '/api/v1/remediation/profiles'),
  )
  const [editing, setEditing] = useState<string | null>(null)
  const [draft, setDraft] = useState<Draft>(newDraft)
  const [mailbox, setMailbox] = useState('')
  const outcome = useOutcome()
  const kind = KINDS[draft.kind]

  const save = async () => {
    const secrets = kind.secret && draft.secret ? { [kind.secret]: draft.secret } : undefined
    const common = {
      description: draft.description,
      domains: draft.domains.split(/[\s,]+/).filter(Boolean),
      enabled: draft.enabled,
      settings: parseSettings(draft.settings),
    }
    if (editing) {
      await call(
        transport,
        'PATCH',
        `/api/v1/remediation/profiles/${encodeURIComponent(editing)}`,
        {
          ...common,
          ...(secrets ? { secrets } : {}),
        },
      )
    } else {
      await call(transport, 'POST', '/api/v1/remediation/profiles', {
        name: draft.name,
        kind: draft.kind,
        ...common,
        secrets: secrets ?? {},
      })
    }
    const saved = editing ?? draft.name
    setEditing(null)
    setDraft(newDraft())
    list.reload()
    outcome.report(`Profile ${saved} saved`)
  }
  const remove = (p: Profile) =>
    outcome.run(async () => {
      await call(transport, 'DELETE', `/api/v1/remediation/profiles/${encodeURIComponent(p.name)}`)
      list.reload()
      return `Profile ${p.name} deleted`
    })
  const test = (p: Profile) =>
    outcome.run(async () => {
      const answer = await call<{ mailbox: string }>(
        transport,
        'POST',
        `/api/v1/remediation/profiles/${encodeURIComponent(p.name)}/test`,
        { mailbox },
      )
      return `Profile ${p.name} opened and searched the mailbox ${answer.mailbox}`
    })

  return (
    <>
      <h1>Account Settings</h1>
      <p>
        Remediation profiles: how the gateway reaches recipients’ mailboxes to delete or forward.
      </p>
      <Alert text={list.error} />
      {outcome.view}
      {list.data && (
        <Table
          label="Remediation profiles"
          rows={list.data.profiles}
          rowKey={(p) => p.name}
          empty="No profile yet: remediation cannot reach any mailbox."
          columns={[
            { title: 'Name', cell: (p) => p.name },
            { title: 'Kind', cell: (p) => p.kind },
            { title: 'Description', cell: (p) => p.description || '—' },
            {
              title: 'Domains',
              cell: (p) =>
                p.domains.length > 0
                  ? p.domains.map((d) => <Obs key={d} type="domain" value={d} />)
                  : 'any',
            },
            { title: 'Enabled', cell: (p) => (p.enabled ? 'yes' : 'no') },
            { title: 'Secrets set', cell: (p) => p.secretsSet.join(', ') || 'none' },
            { title: 'Changed', cell: (p) => `${formatTime(p.updatedAt)} by ${p.updatedBy}` },
            {
              title: 'Actions',
              cell: (p) => (
                <span className="row">
                  <button
                    type="button"
                    aria-label={`Edit profile ${p.name}`}
                    onClick={() => {
                      setEditing(p.name)
                      setDraft(draftOf(p))
                    }}
                  >
                    Edit
                  </button>
                  <button
                    type="button"
                    disabled={outcome.busy || !mailbox}
                    aria-label={`Test profile ${p.name} with the mailbox`}
                    onClick={() => void test(p)}
                  >
                    Test
                  </button>
                  <button
                    type="button"
                    disabled={outcome.busy}
                    aria-label={`Delete profile ${p.name}`}
                    onClick={() => void remove(p)}
                  >
                    Delete
                  </button>
                </span>
              ),
            },
          ]}
        />
      )}
      <Field label="Mailbox to test a profile with" value={mailbox} onChange={setMailbox} />
      <h2>{editing ? `Edit profile ${editing}` : 'New profile'}</h2>
      <ActionForm
        label={editing ? 'Edit the profile' : 'Create a profile'}
        submit={editing ? 'Save profile' : 'Create profile'}
        action={save}
      >
        {!editing && (
          <>
            <Field
              label="Profile name"
              value={draft.name}
              onChange={(name) => setDraft({ ...draft, name })}
              required
            />
            <SelectField
              label="Kind"
              value={draft.kind}
              onChange={(kind) => setDraft({ ...newDraft(kind as Kind), name: draft.name })}
              options={Object.keys(KINDS).map((k) => ({ value: k, label: k }))}
            />
          </>
        )}
        <Field
          label="Description"
          value={draft.description}
          onChange={(description) => setDraft({ ...draft, description })}
        />
        <Field
          label="Recipient domains (comma separated)"
          value={draft.domains}
          onChange={(domains) => setDraft({ ...draft, domains })}
        />
        <label>
          <input
            type="checkbox"
            checked={draft.enabled}
            onChange={(e) => setDraft({ ...draft, enabled: e.target.checked })}
          />{' '}
          Enabled
        </label>
        <label className="field">
          <span>Settings (JSON)</span>
          <textarea
            rows={8}
            cols={60}
            spellCheck={false}
            value={draft.settings}
            onChange={(e) => setDraft({ ...draft, settings: e.target.value })}
          />
        </label>
        {kind.secret && (
          <Field
            label={kind.label}
            type="password"
            value={draft.secret}
            placeholder={editing ? 'set: leave empty to keep it' : ''}
            onChange={(secret) => setDraft({ ...draft, secret })}
            required={!editing}
          />
        )}
      </ActionForm>
      {editing && (
        <button
          type="button"
          onClick={() => {
            setEditing(null)
            setDraft(newDraft())
          }}
        >
          Cancel editing
        </button>
      )}
    </>
  )
}
