import { useEffect, useState } from 'react'
import { call, type Transport } from '../shared/api.js'
import { ActionForm, Alert, useLoad } from '../shared/ui.js'
import { TicketIntegrations } from './TicketsPage.js'

/** The gateway detections that may raise incidents (the hub's DETECTIONS). */
const DETECTIONS = [
  ['virus', 'Malware found in a message'],
  ['malicious_url', 'Malicious URL in a message'],
  ['retro_remediation', 'A message removed after delivery'],
  ['blocked_user', 'A sender blocked for outbound spam'],
] as const

interface AutoPolicy {
  detections: string[]
  window_minutes: number
}

/** Settings: the org's automatic-incident policy and its ticket integrations. */
export function SettingsPage({ transport }: { transport: Transport }) {
  const policy = useLoad(() => call<AutoPolicy>(transport, 'GET', '/api/v1/incidents/auto-policy'))
  const [detections, setDetections] = useState<string[]>([])
  const [window, setWindow] = useState('60')
  const [saved, setSaved] = useState(false)
  useEffect(() => {
    if (!policy.data) return
    setDetections(policy.data.detections)
    setWindow(String(policy.data.window_minutes))
  }, [policy.data])
  return (
    <>
      <h1>Settings</h1>
      <h2>Automatic incidents</h2>
      <Alert text={policy.error} />
      <ActionForm
        label="Automatic incident policy"
        submit="Save incident policy"
        action={async () => {
          setSaved(false)
          await call(transport, 'PUT', '/api/v1/incidents/auto-policy', {
            detections,
            window_minutes: Number(window),
          })
          setSaved(true)
          policy.reload()
        }}
      >
        <fieldset>
          <legend>Gateway detections that raise an incident</legend>
          {DETECTIONS.map(([id, label]) => (
            <label key={id} className="check">
              <input
                type="checkbox"
                checked={detections.includes(id)}
                onChange={(event) =>
                  setDetections(
                    event.target.checked ? [...detections, id] : detections.filter((d) => d !== id),
                  )
                }
              />
              {label}
            </label>
          ))}
        </fieldset>
        <label className="field">
          <span>Grouping window (minutes)</span>
          <input
            type="number"
            min={1}
            max={10080}
            value={window}
            onChange={(event) => setWindow(event.target.value)}
          />
        </label>
      </ActionForm>
      {saved && <p role="status">Incident policy saved</p>}
      <TicketIntegrations transport={transport} />
    </>
  )
}
