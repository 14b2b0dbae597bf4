import { useId, useState, type ReactNode } from 'react'
import {
  buildSettings,
  fieldsFor,
  initialState,
  isSecretKey,
  OTHER,
  type FieldState,
  type FormState,
  type ModuleType,
  type Problem,
  type Row,
  type SettingField,
} from './module-settings.js'

/** A registered gateway, as `GET /api/v1/devices` lists it (the Devices page's list). */
export interface Device {
  id: string
  name: string
  status: string
}

/** The org's gateways for a `device_list` setting, or why they could not be listed. */
export interface Gateways {
  devices: Device[]
  error: string | null
}

export interface SettingsForm {
  fields: SettingField[]
  state: FormState
  problems: Problem[]
  setField(key: string, value: FieldState): void
  setOther(text: string): void
  /** The settings to send; what to fix is added to `messages` and shown beside its control. */
  build(messages: string[]): Record<string, unknown>
  reset(): void
}

/**
 * The settings form of one module type, started from `stored` (an instance's settings, masked
 * secrets included) or from the spec's defaults; it starts again when the type changes.
 */
export function useSettingsForm(
  type: ModuleType | undefined,
  stored?: Record<string, unknown>,
): SettingsForm {
  const start = () => {
    const fields = fieldsFor(type, stored)
    return { typeId: type?.id, fields, state: initialState(fields, stored), problems: [] }
  }
  const [form, setForm] = useState<{
    typeId: string | undefined
    fields: SettingField[]
    state: FormState
    problems: Problem[]
  }>(start)
  // Another type (or the types arriving after the instance): its own fields, from scratch.
  const current = form.typeId === type?.id ? form : start()
  if (current !== form) setForm(current)
  const setState = (change: (state: FormState) => FormState) =>
    setForm((f) => ({ ...f, state: change(f.state) }))
  return {
    fields: current.fields,
    state: current.state,
    problems: current.problems,
    setField: (key, value) =>
      setState((state) => ({ ...state, fields: { ...state.fields, [key]: value } })),
    setOther: (text) => setState((state) => ({ ...state, other: text })),
    build(messages) {
      const { settings, problems } = buildSettings(current.fields, current.state)
      setForm((f) => ({ ...f, problems }))
      messages.push(...problems.map((p) => p.message))
      return settings
    },
    reset: () => setForm(start()),
  }
}

function ProblemText({ id, problems }: { id: string; problems: Problem[] }) {
  if (problems.length === 0) return null
  return (
    <small id={id} className="problem">
      {problems.map((p) => p.message).join(' ')}
    </small>
  )
}

/** One labelled control per `configuration_spec` entry, then the JSON editor for the rest. */
export function SettingsFields({ form, gateways }: { form: SettingsForm; gateways: Gateways }) {
  const otherId = useId()
  const otherProblems = form.problems.filter((p) => p.key === OTHER)
  // Open when there is something in it, or nothing else to edit settings with.
  const [jsonOpen] = useState(form.state.other !== '' || form.fields.length === 0)
  return (
    <>
      {form.fields.map((field) => {
        const state = form.state.fields[field.entry.key]
        return state ? (
          <SettingControl
            key={field.entry.key}
            field={field}
            state={state}
            problems={form.problems.filter((p) => p.key === field.entry.key)}
            gateways={gateways}
            onChange={(value) => form.setField(field.entry.key, value)}
          />
        ) : null
      })}
      <details className="wide" open={jsonOpen}>
        <summary>Edit as JSON (advanced)</summary>
        <label className="field wide">
          <span>
            {form.fields.length > 0
              ? 'Settings the form does not describe (JSON object)'
              : 'Settings (JSON object)'}
          </span>
          <textarea
            value={form.state.other}
            placeholder="{}"
            spellCheck={false}
            aria-invalid={otherProblems.length > 0 || undefined}
            aria-describedby={otherProblems.length > 0 ? otherId : undefined}
            onChange={(event) => form.setOther(event.target.value)}
          />
        </label>
        <ProblemText id={otherId} problems={otherProblems} />
      </details>
    </>
  )
}

function SettingControl({
  field,
  state,
  problems,
  gateways,
  onChange,
}: {
  field: SettingField
  state: FieldState
  problems: Problem[]
  gateways: Gateways
  onChange(value: FieldState): void
}) {
  const inputId = useId()
  const problemId = useId()
  const hintId = useId()
  const { entry, control } = field
  const invalid = problems.length > 0
  const describedBy =
    [invalid ? problemId : '', entry.tooltip ? hintId : ''].filter(Boolean).join(' ') || undefined
  const hint = entry.tooltip ? (
    <small id={hintId} className="muted">
      {entry.tooltip}
    </small>
  ) : null
  const problemText = <ProblemText id={problemId} problems={problems} />

  // Hints and problems sit beside the label, not in it: the control's name stays its label.
  if (state.kind === 'text' && control.kind === 'text') {
    return (
      <div className="field">
        <label htmlFor={inputId}>
          <span>{entry.label}</span>
        </label>
        <input
          id={inputId}
          type={control.input}
          value={state.text}
          required={entry.required && !state.masked}
          placeholder={state.masked ? 'unchanged' : undefined}
          step={control.input === 'number' ? (entry.type === 'integer' ? 1 : 'any') : undefined}
          autoComplete={control.input === 'password' ? 'new-password' : 'off'}
          aria-invalid={invalid || undefined}
          aria-describedby={describedBy}
          onChange={(event) => onChange({ ...state, text: event.target.value })}
        />
        {hint}
        {problemText}
      </div>
    )
  }
  if (state.kind === 'checkbox') {
    return (
      <div className="check">
        <label>
          <input
            type="checkbox"
            checked={state.checked}
            aria-describedby={describedBy}
            onChange={(event) => onChange({ kind: 'checkbox', checked: event.target.checked })}
          />
          {entry.label}
        </label>
        {hint}
      </div>
    )
  }
  if (state.kind === 'choices' && control.kind === 'choices') {
    // Values stored that the type no longer offers stay listed, so a save keeps them.
    const options = [...new Set([...control.options, ...state.chosen])]
    return (
      <fieldset aria-describedby={describedBy} aria-invalid={invalid || undefined}>
        <legend>{entry.label}</legend>
        {options.map((option) => (
          <label key={option} className="check">
            <input
              type="checkbox"
              checked={state.chosen.includes(option)}
              onChange={(event) =>
                onChange({
                  kind: 'choices',
                  chosen: options.filter((o) =>
                    o === option ? event.target.checked : state.chosen.includes(o),
                  ),
                })
              }
            />
            {option}
          </label>
        ))}
        {hint}
        {problemText}
      </fieldset>
    )
  }
  if (state.kind === 'devices') {
    const known = new Set(gateways.devices.map((d) => d.id))
    const devices = [
      ...gateways.devices,
      ...state.chosen
        .filter((id) => !known.has(id))
        .map((id) => ({ id, name: id, status: 'not registered' })),
    ]
    return (
      <fieldset aria-describedby={describedBy} aria-invalid={invalid || undefined}>
        <legend>{entry.label}</legend>
        <label className="check">
          <input
            type="checkbox"
            checked={state.all}
            onChange={(event) => onChange({ ...state, all: event.target.checked })}
          />
          All gateways of the organisation, now and later
        </label>
        {devices.map((device) => (
          <label key={device.id} className="check">
            <input
              type="checkbox"
              disabled={state.all}
              checked={!state.all && state.chosen.includes(device.id)}
              onChange={(event) =>
                onChange({
                  ...state,
                  chosen: event.target.checked
                    ? [...state.chosen, device.id]
                    : state.chosen.filter((id) => id !== device.id),
                })
              }
            />
            {device.name} <span className="muted">({device.status})</span>
          </label>
        ))}
        {gateways.error && (
          <small className="problem">The gateways could not be listed: {gateways.error}</small>
        )}
        {hint}
        {problemText}
      </fieldset>
    )
  }
  if (state.kind === 'rows' && control.kind === 'rows') {
    return (
      <RowsControl
        label={entry.label}
        prefix={control.prefix}
        rows={state.rows}
        describedBy={describedBy}
        invalid={invalid}
        onChange={(rows) => onChange({ kind: 'rows', rows })}
      >
        {hint}
        {problemText}
      </RowsControl>
    )
  }
  return null
}

/** `prefix + name` settings as editable name/value rows (`custom_*`: the token's claims). */
function RowsControl({
  label,
  prefix,
  rows,
  describedBy,
  invalid,
  onChange,
  children,
}: {
  label: string
  prefix: string
  rows: Row[]
  describedBy: string | undefined
  invalid: boolean
  onChange(rows: Row[]): void
  children: ReactNode
}) {
  const change = (index: number, row: Row) => onChange(rows.map((r, i) => (i === index ? row : r)))
  return (
    <fieldset className="wide" aria-describedby={describedBy} aria-invalid={invalid || undefined}>
      <legend>{label}</legend>
      {prefix === 'custom_' && (
        <p className="muted">
          Each row is the setting custom_NAME; the hub sends it to the module as the claim NAME of
          its configuration token.
        </p>
      )}
      {rows.map((row, index) => {
        const secret = isSecretKey(`${prefix}${row.name}`)
        return (
          <div key={index} className="row">
            <label className="field">
              <span>Name (row {index + 1})</span>
              <span className="prefixed">
                <code aria-hidden="true">{prefix}</code>
                <input
                  value={row.name}
                  autoComplete="off"
                  spellCheck={false}
                  onChange={(event) => change(index, { ...row, name: event.target.value })}
                />
              </span>
            </label>
            <label className="field">
              <span>Value (row {index + 1})</span>
              <input
                type={secret || row.masked ? 'password' : 'text'}
                value={row.value}
                placeholder={row.masked ? 'unchanged' : undefined}
                autoComplete={secret ? 'new-password' : 'off'}
                onChange={(event) => change(index, { ...row, value: event.target.value })}
              />
            </label>
            <button
              type="button"
              aria-label={`Remove row ${index + 1}`}
              onClick={() => onChange(rows.filter((_, i) => i !== index))}
            >
              Remove
            </button>
          </div>
        )
      })}
      <button
        type="button"
        onClick={() => onChange([...rows, { name: '', value: '', masked: false }])}
      >
        Add a value
      </button>
      {children}
    </fieldset>
  )
}
