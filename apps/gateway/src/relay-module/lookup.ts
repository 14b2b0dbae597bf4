import type { Observable } from '@postern/ctim'
import {
  searchFilter,
  type SearchFilter,
  type SearchRow,
  type TrackingSearchRepository,
} from '@postern/store'

/**
 * Which tracked messages an observable names: each type becomes one or more tracking search
 * filters (OR-ed by running each and merging by MID), all index lookups.
 */
const is = (value: string) => ({ operator: 'is' as const, value })

/** Observable types the gateway can answer, and the filters each becomes. */
const FILTERS: Record<string, (value: string) => Partial<SearchFilter>[]> = {
  email: (v) => [{ envelopeSenders: [is(v)] }, { envelopeRecipients: [is(v)] }],
  domain: (v) => [{ domains: [v] }, { urlDomains: [v] }],
  ip: (v) => [{ senderIp: v }],
  ipv6: (v) => [{ senderIp: v }],
  url: (v) => [{ urls: [v] }],
  sha256: (v) => [{ attachmentHashes: [v] }],
  sha1: (v) => [{ attachmentHashes: [v] }],
  md5: (v) => [{ attachmentHashes: [v] }],
  file_name: (v) => [{ attachmentNames: [is(v)] }],
  email_subject: (v) => [{ subjects: [is(v)] }],
  email_messageid: (v) => [{ messageId: v }],
  cisco_mid: (v) => {
    // Sightings in the wild carry MIDs with a `-suffix` (reference §6); the number is the MID.
    const mid = Number(/^(\d{1,15})(?:-|$)/.exec(v)?.[1] ?? NaN)
    return Number.isSafeInteger(mid) && mid > 0 ? [{ mids: [mid] }] : []
  },
}

export const SUPPORTED_OBSERVABLE_TYPES = Object.keys(FILTERS)

export function supportsObservable(observable: Observable): boolean {
  return Object.hasOwn(FILTERS, observable.type)
}

/** The newest messages (at most `limit`) the observable names, newest first. */
export async function messagesFor(
  search: TrackingSearchRepository,
  observable: Observable,
  limit: number,
): Promise<SearchRow[]> {
  const filters = FILTERS[observable.type]?.(observable.value) ?? []
  const byMid = new Map<number, SearchRow>()
  for (const part of filters) {
    // The page alone: a lookup has no use for the total, whose count visits every match.
    const rows = await search.page(searchFilter(part), {
      sort: { field: 'received_at', order: 'desc' },
      limit,
      offset: 0,
    })
    for (const row of rows) byMid.set(row.mid, row)
  }
  return [...byMid.values()]
    .sort((a, b) => b.receivedAt - a.receivedAt || b.mid - a.mid)
    .slice(0, limit)
}
