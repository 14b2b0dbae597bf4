import { z } from 'zod'

/**
 * Private intelligence over the tunnel, both directions.
 *
 * Gateway → hub: `intel.events` (a request, so that the gateway learns which events the hub
 * took and can keep the others queued): detections (virus, malicious URL, retro-remediation,
 * blocked user) and reports of messages carrying a watched observable. The bodies are validated
 * by the hub's `GatewayEventHandler`; here they are opaque objects.
 *
 * Hub → gateway: two gateway module endpoints called with `module.call`: block-list changes
 * (`/postern/blocks`) and the org's watched observables (`/postern/watchlist`, the whole set each
 * time, so a gateway that missed a change is corrected by the next sync).
 */
export const INTEL_METHODS = { events: 'intel.events' } as const

export const INTEL_MODULE_PATHS = {
  blocks: '/postern/blocks',
  watchlist: '/postern/watchlist',
} as const

/** Events per `intel.events` request (the gateway sends its queue in batches of this size). */
export const INTEL_EVENTS_BATCH = 50

/**
 * Events the gateway dropped from its queue under its cap while the hub was away, reported
 * with the next batch (alone when nothing else is queued): the hub records the loss.
 */
export const intelEventsLost = z
  .object({
    count: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    /** When the first and the last of them were dropped (epoch ms). */
    firstDroppedAt: z.number().int().nonnegative(),
    lastDroppedAt: z.number().int().nonnegative(),
  })
  .strict()
export type IntelEventsLost = z.infer<typeof intelEventsLost>

export const intelEventsPush = z
  .object({
    events: z.array(z.record(z.string(), z.unknown())).max(INTEL_EVENTS_BATCH),
    lost: intelEventsLost.optional(),
  })
  .strict()
  .refine((push) => push.events.length > 0 || push.lost !== undefined, {
    message: 'an intel.events request carries events, a loss report, or both',
  })
export type IntelEventsPush = z.infer<typeof intelEventsPush>

/**
 * One result per event, in order. `retry: true` means the hub could not process it now (its
 * database is away): keep it and send it again later; anything else is done with (taken, or
 * refused for good because the body is invalid — resending would be refused again). Fewer
 * results than events means the hub stopped at its time budget for one request (a gateway
 * catching up after an outage must not wait on a batch longer than its request timeout): the
 * events without a result were not looked at and go again at once.
 */
export const intelEventsResult = z
  .object({
    results: z.array(
      z
        .object({ ok: z.boolean(), retry: z.boolean(), error: z.string().max(2000).optional() })
        .strict(),
    ),
  })
  .strict()
export type IntelEventsResult = z.infer<typeof intelEventsResult>

/** The gateways' block-list kinds (the gateway store's `BLOCKLIST_KINDS`). */
export const INTEL_BLOCK_KINDS = [
  'sender_address',
  'sender_domain',
  'sender_ip',
  'url',
  'url_domain',
  'attachment_hash',
] as const

export const intelBlockEntry = z
  .object({
    kind: z.enum(INTEL_BLOCK_KINDS),
    value: z.string().min(1).max(2048),
    reason: z.string().max(500),
    /** The hub user or client that asked, recorded as the entry's creator. */
    createdBy: z.string().min(1).max(200),
    expiresAt: z.number().int().nonnegative().nullable(),
    /** The casebook or judgement the entry comes from (its CTIA id URL). */
    externalRef: z.string().max(2048),
  })
  .strict()
export type IntelBlockEntry = z.infer<typeof intelBlockEntry>

export const intelBlockChange = z
  .object({
    action: z.enum(['add', 'remove']),
    entries: z.array(intelBlockEntry).min(1).max(5000),
  })
  .strict()
export type IntelBlockChange = z.infer<typeof intelBlockChange>

/** What a gateway answers to a block change. */
export const intelBlockResult = z
  .object({
    /** Entries added (or removed) by this change. */
    changed: z.number().int().nonnegative(),
    /** Entries that were already there (add) or not there (remove). */
    unchanged: z.number().int().nonnegative(),
    /** Entries the gateway refused (invalid value for its kind), with the reason. */
    refused: z.array(z.object({ kind: z.string(), value: z.string(), reason: z.string() })),
  })
  .strict()
export type IntelBlockResult = z.infer<typeof intelBlockResult>

export const intelWatchlist = z
  .object({
    observables: z
      .array(z.object({ type: z.string().min(1).max(64), value: z.string().min(1).max(2048) }))
      .max(50_000),
  })
  .strict()
export type IntelWatchlist = z.infer<typeof intelWatchlist>
