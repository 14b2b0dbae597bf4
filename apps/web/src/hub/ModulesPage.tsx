import { useEffect, useRef, useState } from 'react'
import { call, errorText, type Transport } from '../shared/api.js'
import { ActionForm, Alert, Field, Table, useLoad } from '../shared/ui.js'
import {
  SettingsFields,
  useSettingsForm,
  type Device,
  type Gateways,
  type SettingsForm,
} from './ModuleSettingsForm.js'
import type { ModuleType } from './module-settings.js'

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
const DEVICES = '/api/v1/devices'

/**
 * The name and settings a form sends, or an error that says everything to fix (the form's
 * alert shows it); nothing is sent then.
 */
function checkedInstance(
  name: string,
  form: SettingsForm,
): { name: string; settings: Record<string, unknown> } {
  const messages: string[] = []
  const trimmed = name.trim()
  if (trimmed === '') messages.push('Module name is required: fill it in.')
  const settings = form.build(messages)
  if (messages.length > 0) throw new Error(`Not saved. ${messages.join(' ')}`)
  return { name: trimmed, settings }
}

/**
 * Modules: the org's module instances (gateways, relay modules): list, create, edit, disable.
 * Settings are edited with a form built from the type's `configuration_spec`.
 */
export function ModulesPage({ transport }: { transport: Transport }) {
  const types = useLoad(() => call<ModuleType[]>(transport, 'GET', TYPES))
  const instances = useLoad(() => call<ModuleInstance[]>(transport, 'GET', INSTANCES))
  const devices = useLoad(() => call<{ items: Device[] }>(transport, 'GET', DEVICES))
  const [editing, setEditing] = useState<ModuleInstance | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [status, setStatus] = useState<string | null>(null)
  const gateways: Gateways = { devices: devices.data?.items ?? [], error: devices.error }
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
      <NewInstance
        transport={transport}
        types={types.data ?? []}
        gateways={gateways}
        onCreated={(created) => {
          setStatus(`Module ${created.name} created`)
          instances.reload()
        }}
      />
      {status && <p role="status">{status}</p>}
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
                <button
                  type="button"
                  aria-label={`Edit ${m.name}`}
                  onClick={() => {
                    setStatus(null)
                    setEditing(m)
                  }}
                >
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
          type={types.data?.find((t) => t.id === editing.module_type_id)}
          gateways={gateways}
          onDone={(saved) => {
            setEditing(null)
            if (saved) setStatus(`Module ${saved.name} saved`)
            instances.reload()
          }}
        />
      )}
    </>
  )
}

function NewInstance({
  transport,
  types,
  gateways,
  onCreated,
}: {
  transport: Transport
  types: ModuleType[]
  gateways: Gateways
  onCreated(instance: ModuleInstance): void
}) {
  const [name, setName] = useState('')
  const [typeId, setTypeId] = useState('')
  const type = types.find((t) => t.id === typeId) ?? types[0]
  const form = useSettingsForm(type)
  return (
    <ActionForm
      label="New module instance"
      submit="Create module instance"
      noValidate
      action={async () => {
        const created = await call<ModuleInstance>(transport, 'POST', INSTANCES, {
          ...checkedInstance(name, form),
          module_type_id: type?.id,
        })
        setName('')
        form.reset()
        onCreated(created)
      }}
    >
      <Field label="Module name" value={name} onChange={setName} required />
      <label className="field">
        <span>Module type</span>
        <select value={type?.id ?? ''} onChange={(event) => setTypeId(event.target.value)}>
          {types.map((t) => (
            <option key={t.id} value={t.id}>
              {t.title ?? t.name}
            </option>
          ))}
        </select>
      </label>
      {type?.description && <p className="muted wide">{type.description}</p>}
      <SettingsFields key={type?.id} form={form} gateways={gateways} />
    </ActionForm>
  )
}

function EditInstance({
  transport,
  instance,
  type,
  gateways,
  onDone,
}: {
  transport: Transport
  instance: ModuleInstance
  type: ModuleType | undefined
  gateways: Gateways
  onDone(saved: ModuleInstance | null): void
}) {
  const [name, setName] = useState(instance.name)
  const form = useSettingsForm(type, instance.settings)
  const heading = useRef<HTMLHeadingElement>(null)
  // The form opens below the list: take the reader (and keyboard focus) there.
  useEffect(() => heading.current?.focus(), [])
  return (
    <section className="card" aria-label={`Edit module ${instance.name}`}>
      <h2 ref={heading} tabIndex={-1}>
        Edit {instance.name}
      </h2>
      <ActionForm
        label={`Edit module ${instance.name}`}
        submit="Save module"
        noValidate
        action={async () => {
          onDone(
            await call<ModuleInstance>(
              transport,
              'PATCH',
              `${INSTANCES}/${encodeURIComponent(instance.id)}`,
              checkedInstance(name, form),
            ),
          )
        }}
      >
        <Field label="Module name" value={name} onChange={setName} required />
        <SettingsFields key={type?.id} form={form} gateways={gateways} />
      </ActionForm>
      <button type="button" onClick={() => onDone(null)}>
        Cancel
      </button>
    </section>
  )
}
