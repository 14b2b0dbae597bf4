import { Obs } from '../shared/pivot.js'

/** A MID linking to its Message Tracking detail (every page that lists messages has one). */
export function MidLink({ mid }: { mid: number }) {
  return (
    <a href={`#/tracking?mid=${mid}`} aria-label={`Message ${mid} details`}>
      {mid}
    </a>
  )
}

/** `Name <user@example.com>`: the address inside an address header (RFC 5322 §3.4) or the whole value. */
const ANGLE_ADDR = /^(.*)<([^<>\s]+@[^<>\s]+)>\s*$/s
const BARE_ADDR = /^[^<>\s]+@[^<>\s]+$/

/**
 * A header address (From, To) as mail wrote it: the display name stays text, the address gets
 * its pivot menu. A value that is not one address is shown as text.
 */
export function HeaderAddress({ value }: { value: string | null }) {
  if (!value) return <>—</>
  const trimmed = value.trim()
  if (BARE_ADDR.test(trimmed)) return <Obs type="email" value={trimmed} />
  const match = ANGLE_ADDR.exec(trimmed)
  if (!match?.[2]) return <>{value}</>
  return (
    <>
      {match[1]?.trim()} <Obs type="email" value={match[2]} />
    </>
  )
}
