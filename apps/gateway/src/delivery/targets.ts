import type { SpoolEntry } from '../spool/types.js'

/**
 * The work left on a processed message, derived only from its spooled pipeline result so that
 * the numbering is the same after a restart: one target per address to deliver to (a redirect
 * may give several per envelope recipient), one per recipient to bounce.
 */
export type DeliveryTarget =
  | {
      index: number
      kind: 'deliver'
      address: string
      rcptIndex: number
      variant?: number
      /** Delivered to an address a redirect outcome named, not to the envelope recipient. */
      redirected?: boolean
    }
  | {
      index: number
      kind: 'bounce'
      address: string
      rcptIndex: number
      status: string
      reason: string
    }

export function deliveryTargets(entry: SpoolEntry): DeliveryTarget[] {
  const outcomes = entry.processed?.outcomes ?? []
  const targets: DeliveryTarget[] = []
  entry.meta.envelope.recipients.forEach((recipient, rcptIndex) => {
    const outcome = outcomes[rcptIndex] ?? { action: 'deliver' as const }
    switch (outcome.action) {
      case 'deliver':
        targets.push({
          index: targets.length,
          kind: 'deliver',
          address: recipient,
          rcptIndex,
          ...(outcome.variant !== undefined ? { variant: outcome.variant } : {}),
        })
        break
      case 'redirect':
        for (const address of outcome.to) {
          targets.push({
            index: targets.length,
            kind: 'deliver',
            address,
            rcptIndex,
            redirected: true,
            ...(outcome.variant !== undefined ? { variant: outcome.variant } : {}),
          })
        }
        break
      case 'bounce':
        targets.push({
          index: targets.length,
          kind: 'bounce',
          address: recipient,
          rcptIndex,
          status: outcome.status ?? '5.7.1',
          reason: outcome.reason,
        })
        break
      case 'quarantine':
      case 'drop':
        break
    }
  })
  return targets
}
