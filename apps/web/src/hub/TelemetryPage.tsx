import { useMemo, useState } from 'react'
import { call, formatTime, type Transport } from '../shared/api.js'
import { StackedBarChart } from '../shared/charts.js'
import { Alert, Table, useLoad } from '../shared/ui.js'

interface Device {
  id: string
  name: string
  status: string
}

interface Feature {
  name: string
  enabled: boolean
  status: string
}

interface Report {
  id: number
  receivedAt: number
  payload: { version?: string; features?: Feature[] }
}

/** Telemetry: the usage reports each gateway sends, with a chart of enabled features per report. */
export function TelemetryPage({ transport }: { transport: Transport }) {
  const devices = useLoad(() => call<{ items: Device[] }>(transport, 'GET', '/api/v1/devices'))
  const [device, setDevice] = useState('')
  const chosen = device || devices.data?.items[0]?.id || ''
  const reports = useLoad(
    () =>
      chosen
        ? call<{ items: Report[] }>(
            transport,
            'GET',
            `/api/v1/devices/${encodeURIComponent(chosen)}/telemetry?limit=100`,
          )
        : Promise.resolve({ items: [] }),
    [chosen],
  )
  const items = reports.data?.items ?? []
  const latest = items[0]
  return (
    <>
      <h1>Telemetry</h1>
      <label className="field">
        <span>Device</span>
        <select value={chosen} onChange={(event) => setDevice(event.target.value)}>
          {(devices.data?.items ?? []).map((d) => (
            <option key={d.id} value={d.id}>
              {d.name} ({d.status})
            </option>
          ))}
        </select>
      </label>
      <Alert text={devices.error ?? reports.error} />
      {items.length === 0 ? (
        <p className="empty">
          No telemetry from this device (it sends when usage telemetry is on).
        </p>
      ) : (
        <>
          <FeaturesChart reports={items} />
          <h2>Latest report ({formatTime(latest?.receivedAt)})</h2>
          <Table
            label="Features of the latest report"
            rows={latest?.payload.features ?? []}
            rowKey={(f) => f.name}
            columns={[
              { title: 'Feature', cell: (f) => f.name },
              { title: 'Enabled', cell: (f) => (f.enabled ? 'yes' : 'no') },
              { title: 'Status', cell: (f) => f.status },
            ]}
          />
          <h2>Reports</h2>
          <Table
            label="Telemetry reports"
            rows={items}
            rowKey={(r) => String(r.id)}
            columns={[
              { title: 'Received', cell: (r) => formatTime(r.receivedAt) },
              { title: 'Version', cell: (r) => r.payload.version ?? '—' },
              {
                title: 'Features enabled',
                cell: (r) =>
                  `${(r.payload.features ?? []).filter((f) => f.enabled).length} of ${(r.payload.features ?? []).length}`,
              },
            ]}
          />
        </>
      )}
    </>
  )
}

function FeaturesChart({ reports }: { reports: Report[] }) {
  const { labels, series } = useMemo(() => {
    const ordered = [...reports].reverse()
    const count = (r: Report, enabled: boolean) =>
      (r.payload.features ?? []).filter((f) => f.enabled === enabled).length
    return {
      labels: ordered.map((r) => formatTime(r.receivedAt)),
      series: [
        { label: 'Enabled features', data: ordered.map((r) => count(r, true)) },
        { label: 'Disabled features', data: ordered.map((r) => count(r, false)) },
      ],
    }
  }, [reports])
  return (
    <StackedBarChart
      labels={labels}
      series={series}
      label="Enabled and disabled features per report"
    />
  )
}
