import { Gauge, type Registry } from 'prom-client'
import type { HubOutboxStore } from '@postern/store'

/**
 * The queue of events for the hub on the gateway's registry (`GET /metrics`), read when
 * scraped: how many wait, and how many the cap dropped that the hub has not been told of.
 */
export function registerOutboxMetrics(
  registry: Registry,
  outbox: HubOutboxStore,
  machine: string,
): void {
  const registers = [registry]
  new Gauge({
    name: 'postern_hub_outbox_events',
    help: 'Private-intelligence events queued for the hub on this machine',
    registers,
    async collect() {
      this.set(await outbox.count(machine))
    },
  })
  new Gauge({
    name: 'postern_hub_outbox_lost_events',
    help: 'Events dropped under cloud.outbox while the hub was unreachable, not yet reported to it',
    registers,
    async collect() {
      this.set((await outbox.losses(machine))?.dropped ?? 0)
    },
  })
}
