import { renderTable } from '@postern/cli-kit'

/** A timestamp as operators read it in CLI output: ISO 8601 in UTC, without zero milliseconds. */
export function time(ms: number | null): string {
  return ms === null ? '' : new Date(ms).toISOString().replace('.000Z', 'Z')
}

/** A message's tracking events as the table `tracking show` and `remediation show` print. */
export function eventTimeline(
  events: readonly {
    at: number
    event: string
    recipient: string | null
    details: Record<string, unknown>
  }[],
): string {
  return renderTable(
    ['TIME', 'EVENT', 'RECIPIENT', 'DETAILS'],
    events.map((e) => [
      time(e.at),
      e.event,
      e.recipient ?? '',
      JSON.stringify(e.details).slice(0, 100),
    ]),
  )
}
