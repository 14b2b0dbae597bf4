import type { Device, DevicesRepo, OrgVersionsRepo } from '@postern/store'

/** What calls to a device need of it; presence (connected, last seen) is not cached. */
export type DeviceName = Pick<Device, 'id' | 'name' | 'hostname'>

/** Organisations whose reads a node keeps; the least recently changed or first seen go first. */
const MAX_ORGS = 1_000

interface Entry {
  version: number
  values: Map<string, Promise<unknown>>
}

/**
 * What one request may reuse of an organisation's state: values loaded under the change
 * counter this request read. A value is loaded at most once per counter value and node.
 */
export class OrgSnapshot {
  constructor(private readonly entry: Entry) {}

  get version(): number {
    return this.entry.version
  }

  /**
   * `load`'s result, loaded once under this counter value. It was loaded after the counter was
   * read, so it is at least as new as what the counter stands for. A failed load is not kept.
   */
  remember<T>(key: string, load: () => Promise<T>): Promise<T> {
    const known = this.entry.values.get(key)
    if (known) return known as Promise<T>
    const loading = load()
    this.entry.values.set(key, loading)
    loading.catch(() => {
      if (this.entry.values.get(key) === loading) this.entry.values.delete(key)
    })
    return loading
  }
}

/**
 * The reads every API request makes of its organisation (the org, the calling API client, the
 * enabled module instances with their settings opened, the devices), kept per hub node. Hub
 * nodes share one database and no cache: every write to those tables bumps the org's change
 * counter in the same transaction (store `bumpOrgVersion`, migration 1100), and each request
 * reads the counter first — one primary-key lookup — and reuses only what was loaded under the
 * same value. A change made through any node, or the admin CLI, is therefore seen by every node
 * on its next request: a revoked client, a disabled org or a deregistered device is never served
 * from here after its change committed, and no message bus (which can lose messages while a
 * node reconnects) is involved.
 */
export class OrgCache {
  private readonly entries = new Map<string, Entry>()

  constructor(private readonly deps: { versions: OrgVersionsRepo; devices: DevicesRepo }) {}

  /** The organisation's state as of now (one counter read). */
  async at(orgId: string): Promise<OrgSnapshot> {
    const version = await this.deps.versions.current(orgId)
    const known = this.entries.get(orgId)
    if (known && known.version === version) return new OrgSnapshot(known)
    const entry: Entry = { version, values: new Map() }
    // A request that read an older value than another already cached (their reads crossed a
    // write) works from its own values: the cache never goes back to an older value.
    if (known && known.version > version) return new OrgSnapshot(entry)
    this.entries.delete(orgId)
    this.entries.set(orgId, entry)
    if (this.entries.size > MAX_ORGS) this.entries.delete(this.entries.keys().next().value!)
    return new OrgSnapshot(entry)
  }

  /** The organisation's registered (not deregistered) devices. */
  async devices(orgId: string): Promise<readonly DeviceName[]> {
    return (await this.at(orgId)).remember('devices', async () =>
      (await this.deps.devices.list(orgId)).map(({ id, name, hostname }) => ({
        id,
        name,
        hostname,
      })),
    )
  }
}
