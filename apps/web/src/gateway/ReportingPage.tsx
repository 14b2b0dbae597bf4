import cytoscape from 'cytoscape'
import { useEffect, useMemo, useRef, useState } from 'react'
import { call, formatTime, type Transport } from '../shared/api.js'
import { StackedBarChart } from '../shared/charts.js'
import { Obs } from '../shared/pivot.js'
import { Alert, Table, useLoad } from '../shared/ui.js'

type Counts = Record<
  | 'total'
  | 'clean'
  | 'spam'
  | 'virus'
  | 'malformed'
  | 'blocked'
  | 'phish'
  | 'authFailed'
  | 'quarantined'
  | 'policy',
  number
>
type Ranked = { value: string; count: number }[]

interface Report {
  timeline: { start: number; incoming: Counts; outgoing: Counts }[]
  totals: { incoming: Counts; outgoing: Counts }
  topSenders: Ranked
  topSenderDomains: Ranked
  topRecipients: Ranked
  topThreats: { urls: Ranked; domains: Ranked; hashes: Ranked }
  relationships: {
    nodes: { id: string; kind: 'sender' | 'recipient'; address: string; messages: number }[]
    edges: { source: string; target: string; messages: number }[]
  }
}

const RANGES = [
  { label: 'Last hour', ms: 3_600_000 },
  { label: 'Last day', ms: 86_400_000 },
  { label: 'Last week', ms: 7 * 86_400_000 },
  { label: 'Last 30 days', ms: 30 * 86_400_000 },
]
const SERIES: { key: keyof Counts; label: string; color: string }[] = [
  { key: 'clean', label: 'Clean', color: '#3c8d40' },
  { key: 'spam', label: 'Spam', color: '#e0a100' },
  { key: 'phish', label: 'Phishing', color: '#c2410c' },
  { key: 'virus', label: 'Virus', color: '#b3261e' },
  { key: 'blocked', label: 'Blocked', color: '#6b21a8' },
  { key: 'policy', label: 'Policy', color: '#0b5cab' },
]

/** Incoming mail per time bucket by verdict, as a stacked bar chart (Chart.js, canvas). */
function VerdictChart({ report }: { report: Report }) {
  const { labels, series } = useMemo(
    () => ({
      labels: report.timeline.map((b) => formatTime(b.start).slice(5, 16)),
      series: SERIES.map((s) => ({
        label: s.label,
        color: s.color,
        data: report.timeline.map((b) => b.incoming[s.key]),
      })),
    }),
    [report],
  )
  return (
    <StackedBarChart
      labels={labels}
      series={series}
      label="Incoming messages per time bucket by verdict"
    />
  )
}

/** Who sent to whom (Cytoscape.js); the same edges are listed in a table for keyboard users. */
function RelationshipGraph({ report }: { report: Report }) {
  const container = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (!container.current) return
    const graph = cytoscape({
      container: container.current,
      elements: [
        ...report.relationships.nodes.map((n) => ({
          data: { id: n.id, label: n.address, kind: n.kind },
        })),
        ...report.relationships.edges.map((e) => ({
          data: {
            id: `${e.source}->${e.target}`,
            source: e.source,
            target: e.target,
            weight: e.messages,
          },
        })),
      ],
      style: [
        {
          selector: 'node',
          style: { label: 'data(label)', 'font-size': 9, width: 14, height: 14 },
        },
        { selector: 'node[kind = "sender"]', style: { 'background-color': '#c2410c' } },
        { selector: 'node[kind = "recipient"]', style: { 'background-color': '#0b5cab' } },
        {
          selector: 'edge',
          style: {
            width: 1.5,
            'curve-style': 'bezier',
            'target-arrow-shape': 'triangle',
            'line-color': '#9aa4b1',
            'target-arrow-color': '#9aa4b1',
          },
        },
      ],
      layout: { name: 'cose', animate: false },
    })
    return () => graph.destroy()
  }, [report])
  const address = new Map(report.relationships.nodes.map((n) => [n.id, n.address]))
  return (
    <>
      <div
        ref={container}
        className="graph"
        role="img"
        aria-label="Sender to recipient relationship graph"
      />
      <Table
        label="Sender to recipient relationships"
        rows={report.relationships.edges}
        rowKey={(e) => `${e.source}->${e.target}`}
        columns={[
          {
            title: 'Sender',
            cell: (e) => <Obs type="email" value={address.get(e.source) ?? e.source} />,
          },
          {
            title: 'Recipient',
            cell: (e) => <Obs type="email" value={address.get(e.target) ?? e.target} />,
          },
          { title: 'Messages', cell: (e) => e.messages },
        ]}
      />
    </>
  )
}

function Top({ title, type, rows }: { title: string; type: string; rows: Ranked }) {
  return (
    <section className="card" aria-label={title}>
      <h2>{title}</h2>
      <Table
        label={title}
        rows={rows}
        rowKey={(r) => r.value}
        columns={[
          { title: 'Value', cell: (r) => <Obs type={type} value={r.value} /> },
          { title: 'Messages', cell: (r) => r.count },
        ]}
      />
    </section>
  )
}

/** Email Reporting (seed §2): totals by verdict, the timeline, top lists and the relationship graph. */
export function ReportingPage({ transport }: { transport: Transport }) {
  const [range, setRange] = useState(RANGES[1]?.ms ?? 86_400_000)
  const report = useLoad(() => {
    const until = Date.now() + 60_000
    return call<Report>(transport, 'POST', '/api/v1/reporting/report', {
      since: until - range,
      until,
    })
  }, [range])
  const data = report.data
  return (
    <>
      <h1>Email Reporting</h1>
      <label className="field">
        <span>Time range</span>
        <select value={range} onChange={(e) => setRange(Number(e.target.value))}>
          {RANGES.map((r) => (
            <option key={r.ms} value={r.ms}>
              {r.label}
            </option>
          ))}
        </select>
      </label>
      <Alert text={report.error} />
      {data && (
        <>
          <Table
            label="Totals by verdict"
            rows={(['incoming', 'outgoing'] as const).map((d) => ({
              direction: d,
              counts: data.totals[d],
            }))}
            rowKey={(r) => r.direction}
            columns={[
              { title: 'Direction', cell: (r) => r.direction },
              { title: 'Total', cell: (r) => r.counts.total },
              ...SERIES.map((s) => ({
                title: s.label,
                cell: (r: { counts: Counts }) => r.counts[s.key],
              })),
            ]}
          />
          <VerdictChart report={data} />
          <div className="cards">
            <Top title="Top senders" type="email" rows={data.topSenders} />
            <Top title="Top sender domains" type="domain" rows={data.topSenderDomains} />
            <Top title="Top targets" type="email" rows={data.topRecipients} />
            <Top title="Top threat URLs" type="url" rows={data.topThreats.urls} />
            <Top title="Top threat domains" type="domain" rows={data.topThreats.domains} />
            <Top title="Top threat hashes" type="sha256" rows={data.topThreats.hashes} />
          </div>
          <h2>Sender → target relationships</h2>
          <RelationshipGraph report={data} />
        </>
      )}
    </>
  )
}
