import { useState } from 'react'
import { call, errorText, formatTime, type Transport } from '../shared/api.js'
import { ActionForm, Alert, Field, useLoad } from '../shared/ui.js'

interface CloudStatus {
  state: string
  settings: { enabled: boolean; server: string | null; threatResponse: boolean; csn: boolean }
  hubUrl: string | null
  registration: {
    deviceId: string
    deviceName: string
    region: string
    registeredAt: number
  } | null
  lastError: { message: string; at: number } | null
  servers: Record<string, string | null>
}

/**
 * Cloud Service Settings (seed §2): enable, server, registration with a token made in the hub's
 * Devices page, status, Threat Response and usage telemetry with "show what is sent".
 */
export function CloudPage({ transport }: { transport: Transport }) {
  const status = useLoad(() => call<CloudStatus>(transport, 'GET', '/api/v1/cloud'))
  const [token, setToken] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [preview, setPreview] = useState<string | null>(null)
  const change = (body: Record<string, unknown>) =>
    call(transport, 'PATCH', '/api/v1/cloud/settings', body).then(status.reload, (e: unknown) =>
      setError(errorText(e)),
    )
  const s = status.data
  if (!s) return <Alert text={status.error} />
  return (
    <>
      <h1>Cloud Service Settings</h1>
      <Alert text={error ?? status.error} />
      <table aria-label="Cloud services status">
        <tbody>
          <tr>
            <th scope="row">Status</th>
            <td role="status">{s.state}</td>
          </tr>
          <tr>
            <th scope="row">Hub</th>
            <td>{s.hubUrl ?? '—'}</td>
          </tr>
          <tr>
            <th scope="row">Device</th>
            <td>
              {s.registration
                ? `${s.registration.deviceName} (${s.registration.deviceId}), registered ${formatTime(s.registration.registeredAt)}`
                : 'not registered'}
            </td>
          </tr>
          <tr>
            <th scope="row">Last error</th>
            <td>{s.lastError ? `${s.lastError.message} (${formatTime(s.lastError.at)})` : '—'}</td>
          </tr>
        </tbody>
      </table>
      <div className="form">
        <label>
          <input
            type="checkbox"
            checked={s.settings.enabled}
            onChange={(e) => void change({ enabled: e.target.checked })}
          />{' '}
          Cloud services enabled
        </label>
        <label className="field">
          <span>Cloud server</span>
          <select
            value={s.settings.server ?? ''}
            onChange={(e) => void change({ server: e.target.value })}
            disabled={!s.settings.enabled}
          >
            <option value="" disabled>
              choose a region
            </option>
            {Object.entries(s.servers).map(([region, url]) => (
              <option key={region} value={region} disabled={!url}>
                {region}
                {url ? ` (${url})` : ' (not configured)'}
              </option>
            ))}
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            checked={s.settings.threatResponse}
            onChange={(e) => void change({ threatResponse: e.target.checked })}
          />{' '}
          Threat Response
        </label>
        <label>
          <input
            type="checkbox"
            checked={s.settings.csn}
            onChange={(e) => void change({ telemetry: e.target.checked })}
          />{' '}
          Usage telemetry
        </label>
        <button
          type="button"
          onClick={() =>
            void call(transport, 'GET', '/api/v1/cloud/telemetry-preview').then(
              (p) => setPreview(JSON.stringify(p, null, 2)),
              (e: unknown) => setError(errorText(e)),
            )
          }
        >
          Show what is sent
        </button>
      </div>
      {preview && <pre aria-label="Usage telemetry preview">{preview}</pre>}
      {s.registration ? (
        <ActionForm
          label="Deregister"
          submit="Deregister"
          action={async () => {
            await call(transport, 'POST', '/api/v1/cloud/deregister')
            status.reload()
          }}
        >
          {null}
        </ActionForm>
      ) : (
        <ActionForm
          label="Register with the hub"
          submit="Register"
          action={async () => {
            await call(transport, 'POST', '/api/v1/cloud/register', { token: token.trim() })
            setToken('')
            status.reload()
          }}
        >
          <Field label="Registration token" value={token} onChange={setToken} required />
        </ActionForm>
      )}
    </>
  )
}
