import type { Logger } from '@postern/core'
import type { HubOutboxStore } from '@postern/store'
import type { CloudConfig } from './config.js'

/**
 * Keeps the machine's queue of events for the hub within `cloud.outbox` (while the hub is
 * unreachable it would otherwise grow without bound): the oldest events beyond the count or
 * the age are dropped, counted for the hub's next batch, and logged. Returns how many went.
 */
export async function trimOutbox(
  outbox: HubOutboxStore,
  machine: string,
  cap: CloudConfig['outbox'],
  now: number,
  logger: Logger,
): Promise<number> {
  const dropped = await outbox.trim(
    machine,
    { maxEvents: cap.maxEvents, createdBefore: now - cap.maxAgeHours * 3_600_000 },
    now,
  )
  if (dropped > 0)
    logger.warn(
      {
        event: 'HUB_EVENTS_DROPPED',
        dropped,
        maxEvents: cap.maxEvents,
        maxAgeHours: cap.maxAgeHours,
      },
      'events for the hub dropped: the queue outgrew cloud.outbox while the hub was unreachable',
    )
  return dropped
}
