import { useState } from 'react'
import { call, errorText, type Transport } from '../shared/api.js'
import { ActionForm, Alert, Field, Table, useLoad } from '../shared/ui.js'

interface ModuleType {
  id: string
  name: string
  title?: string
  built_in: boolean
}

interface ModuleInstance {
  id: string
  name: string
  module_type_id: string
  enabled: boolean
  visibility: string
  settings: Record<string, unknown>
  updated_at: string
}

const TYPES = '/iroh/iroh-int/module-type'
const INSTANCES = '/iroh/iroh-int/module-instance'

/** Settings are JSON; secrets come back masked and are kept when sent back unchanged. */
function parseSettings(text: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(text || '{}')
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('Settings must be a JSON object')
  return parsed as Record<string, unknown>
}

function SettingsField({ value, onChange }: { value: string; onChange(value: string): void }) {
  return (
    <label className="field wide">
      <span>Settings (JSON)</span>
      <textarea value={value} onChange={(event) => onChange(event.target.value)} />
    </label>
  )
}

/** Modules: the org's module instances (gateways, relay modules): list, create, edit, disable. */
export function ModulesPage({ transport }: { transport: Transport }) {
  const types = useLoad(() => call<ModuleType[]>(transport, 'GET', TYPES))
  const instances = useLoad(() => call<ModuleInstance[]>(transport, 'GET', INSTANCES))
  const [name, setName] = useState('')
  const [type, setType] = useState('')
  const [settings, setSettings] = useState('{}')
  const [editing, setEditing] = useState<ModuleInstance | null>(null)
  const [error, setError] = useState<string | null>(null)
  const typeName = (id: string) => types.data?.find((t) => t.id === id)?.name ?? id
  const setEnabled = (instance: ModuleInstance, enabled: boolean) =>
    call(transport, 'PATCH', `${INSTANCES}/${encodeURIComponent(instance.id)}`, { enabled }).then(
      instances.reload,
      (err: unknown) => setError(errorText(err)),
    )
  return (
    <>
      <h1>Modules</h1>
      <h2>New module instance</h2>
      <ActionForm
        label="New module instance"
        submit="Create module instance"
        action={async () => {
          await call(transport, 'POST', INSTANCES, {
            name,
            module_type_id: type || types.data?.[0]?.id,
            settings: parseSettings(settings),
          })
          setName('')
          setSettings('{}')
          instances.reload()
        }}
      >
        <Field label="Module name" value={name} onChange={setName} required />
        <label className="field">
          <span>Module type</span>
          <select value={type} onChange={(event) => setType(event.target.value)}>
            {(types.data ?? []).map((t) => (
              <option key={t.id} value={t.id}>
                {t.title ?? t.name}
              </option>
            ))}
          </select>
        </label>
        <SettingsField value={settings} onChange={setSettings} />
      </ActionForm>
      <Alert text={types.error ?? instances.error ?? error} />
      <h2>Module instances</h2>
      <Table
        label="Module instances"
        rows={instances.data ?? []}
        rowKey={(m) => m.id}
        empty="No module yet: add the gateways (Postern Email Gateway) first."
        columns={[
          { title: 'Name', cell: (m) => m.name },
          { title: 'Type', cell: (m) => typeName(m.module_type_id) },
          { title: 'State', cell: (m) => (m.enabled ? 'enabled' : 'disabled') },
          { title: 'Settings', cell: (m) => <code>{JSON.stringify(m.settings)}</code> },
          {
            title: 'Change',
            cell: (m) => (
              <span className="row">
                <button type="button" aria-label={`Edit ${m.name}`} onClick={() => setEditing(m)}>
                  Edit
                </button>
                <button
                  type="button"
                  aria-label={`${m.enabled ? 'Disable' : 'Enable'} ${m.name}`}
                  onClick={() => void setEnabled(m, !m.enabled)}
                >
                  {m.enabled ? 'Disable' : 'Enable'}
                </button>
              </span>
            ),
          },
        ]}
      />
      {editing && (
        <EditInstance
          key={editing.id}
          transport={transport}
          instance={editing}
          onDone={() => {
            setEditing(null)
            instances.reload()
          }}
        />
      )}
    </>
  )
}

function EditInstance({
  transport,
  instance,
  onDone,
}: {
  transport: Transport
  instance: ModuleInstance
  onDone(): void
}) {
  const [name, setName] = useState(instance.name)
  const [settings, setSettings] = useState(JSON.stringify(instance.settings, null, 2))
  return (
    <section className="card" aria-label={`Edit module ${instance.name}`}>
      <h2>Edit {instance.name}</h2>
      <ActionForm
        label={`Edit module ${instance.name}`}
        submit="Save module"
        action={async () => {
          await call(transport, 'PATCH', `${INSTANCES}/${encodeURIComponent(instance.id)}`, {
            name,
            settings: parseSettings(settings),
          })
          onDone()
        }}
      >
        <Field label="Module name" value={name} onChange={setName} required />
        <SettingsField value={settings} onChange={setSettings} />
      </ActionForm>
      <button type="button" onClick={onDone}>
        Cancel
      </button>
    </section>
  )
}
