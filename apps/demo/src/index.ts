import {
  Command,
  EXIT,
  InvalidArgumentError,
  printable,
  renderTable,
  reportError,
} from '@postern/cli-kit'
import { startDemo, type RunningDemo } from './demo.js'

export { startDemo, type DemoOptions, type RunningDemo } from './demo.js'
export { demoErrors } from './errors.js'

function port(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError('a port number 0-65535')
  return n
}

/** `postern demo`: a hub and a gateway on SQLite, registered with each other, sample mail flowing. */
export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'Start a hub and a gateway registered with it, with sample mail flowing (what `npm start` runs)',
    )
    .option('--data-dir <dir>', 'where the demo keeps its data', '.postern-demo')
    .option('--smtp-port <port>', 'gateway SMTP port (0 = any free port)', port, 2525)
    .option('--gateway-port <port>', 'gateway console and API port (0 = any free port)', port, 8025)
    .option('--hub-port <port>', 'hub console and API port (0 = any free port)', port, 8080)
    .option('--no-traffic', 'send the sample messages once instead of every 15 seconds')
    .option('--json', 'print the summary as JSON')
    .action(
      async (options: {
        dataDir: string
        smtpPort: number
        gatewayPort: number
        hubPort: number
        traffic: boolean
        json?: boolean
      }) => {
        let demo: RunningDemo
        try {
          process.stdout.write('Starting the Postern demo…\n')
          demo = await startDemo({ ...options, out: process.stdout })
        } catch (err) {
          process.exitCode = reportError(err, { json: options.json ?? false })
          return
        }
        process.stdout.write(
          options.json ? `${JSON.stringify(summaryJson(demo), null, 2)}\n` : renderSummary(demo),
        )
        process.stdout.write('Demo ready. Press Ctrl-C to stop.\n')
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            process.off('SIGINT', stop)
            process.off('SIGTERM', stop)
            demo.stop().then(resolve, (err: unknown) => {
              reportError(err, { json: false })
              process.exitCode = EXIT.FAILURE
              resolve()
            })
          }
          process.on('SIGINT', stop)
          process.on('SIGTERM', stop)
        })
      },
    )
}

function summaryJson(demo: RunningDemo): Record<string, unknown> {
  return {
    hub: { url: demo.hubUrl, console: `${demo.hubUrl}/`, login: demo.credentials.hub },
    gateway: {
      url: demo.gatewayUrl,
      console: `${demo.gatewayUrl}/`,
      smtp: demo.smtp,
      login: demo.credentials.gateway,
      registration: demo.registration,
    },
    samples: demo.outcomes,
    remediation: demo.remediation,
    investigate: demo.investigate,
    intel: demo.intel,
  }
}

function renderSummary(demo: RunningDemo): string {
  const lines: string[] = []
  lines.push(
    '',
    'Hub (threat response)',
    `  console          ${demo.hubUrl}/  (serves the ribbon too: ${demo.hubUrl}/ribbon.js)`,
    `  API              ${demo.hubUrl}/api/v1  (OpenAPI: ${demo.hubUrl}/api/v1/openapi.json)`,
    `  login            ${demo.credentials.hub.email} / ${demo.credentials.hub.password}`,
    `  demo gateway     device ${demo.registration.deviceId ?? '(not registered)'}: ${demo.registration.state}`,
  )
  lines.push(
    '',
    'Gateway',
    `  console          ${demo.gatewayUrl}/`,
    `  API              ${demo.gatewayUrl}/api/v1  (OpenAPI: ${demo.gatewayUrl}/api/v1/openapi.json)`,
  )
  lines.push(`  SMTP             ${demo.smtp}  (accepts mail for example.com)`)
  lines.push(
    `  login            ${demo.credentials.gateway.username} / ${demo.credentials.gateway.password}`,
  )
  lines.push('', 'Sample mail and what the gateway did with it')
  lines.push(
    indent(
      renderTable(
        ['MID', 'sample', 'status', 'verdicts'],
        demo.outcomes.map((o) => [o.mid, o.label, o.status, o.verdicts.join(', ') || '-']),
      ),
    ),
  )
  for (const outcome of demo.outcomes
    .filter((o) => o.status === 'quarantined' || o.status === 'delivered')
    .slice(0, 2)) {
    lines.push('', `Timeline of MID ${outcome.mid} (${printable(outcome.label)})`)
    for (const event of outcome.timeline) lines.push(`  - ${printable(event)}`)
  }
  const { remediation } = demo
  lines.push('', `Remediation: messages carrying ${remediation.url}`)
  if (remediation.found.length === 0) {
    lines.push('  none were delivered')
  } else {
    lines.push(`  found by URL: MID ${remediation.found.join(', ')}; deleted from the mailboxes:`)
    for (const r of remediation.results) lines.push(`  - ${printable(r.recipient)}: ${r.status}`)
  }
  const { investigate } = demo
  lines.push('', 'Investigate and respond on the hub (a pasted phishing report)')
  lines.push(
    `  inspect found     ${investigate.observables.map((o) => printable(`${o.type} ${o.value}`)).join(', ')}`,
  )
  for (const r of investigate.recommended)
    lines.push(
      `  recommended       ${printable(r.action)} ${printable(r.observable)}: ${printable(r.reason)}`,
    )
  lines.push(
    `  block domain      ${printable(investigate.block.domain)} on ${investigate.block.gateways.map(printable).join(', ') || 'no gateway'}: ${printable(investigate.block.status)}`,
  )
  const { casebook, incidents, blockPush } = demo.intel
  lines.push(
    '',
    'Private intelligence on the hub',
    `  casebook   ${printable(casebook.title)} (${casebook.observables} observables)`,
    `             ${consolePage(demo.hubUrl, 'casebooks', casebook.id)}`,
  )
  if (incidents.length === 0) lines.push('  incidents  none raised by the gateway yet')
  for (const incident of incidents)
    lines.push(
      `  incident   ${printable(incident.title)} [${printable(incident.status)}]`,
      `             ${consolePage(demo.hubUrl, 'incidents', incident.id)}`,
    )
  lines.push(
    `  block push policy: ${blockPush.approvalRequired ? 'another user approves each push' : 'pushes run at once'}`,
    `  block push ${printable(`${blockPush.observable.type} ${blockPush.observable.value}`)} by ${printable(blockPush.requestedBy)} [${printable(blockPush.status)}]`,
    `             approve it in the hub console (Approvals) or POST /api/v1/approvals/${printable(blockPush.approvalId)}/approve`,
  )
  lines.push('')
  return `${lines.join('\n')}\n`
}

/** The hub console's page of a casebook or incident (its id URL ends with the short id). */
function consolePage(hubUrl: string, page: 'casebooks' | 'incidents', id: string): string {
  return `${hubUrl}/#/${page}?id=${encodeURIComponent(id.slice(id.lastIndexOf('/') + 1))}`
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')
}
