import type { Hub } from '@postern/hub'
import { demoErrors } from './errors.js'
import { PHISHING_OBSERVABLES } from './samples.js'

/** What the demo shows of the hub's private intelligence. */
export interface DemoIntel {
  casebook: { id: string; title: string; observables: number }
  /** Incidents the demo gateway raised through the tunnel (automatic incidents). */
  incidents: { id: string; title: string; status: string }[]
}

const CASEBOOK_REF = 'postern-demo-phishing'
const CASEBOOK_TITLE = "Demo phishing: the samples' URLs and senders"

/**
 * The analyst's side on the hub: a casebook documenting the demo's phishing observables (made
 * once; later starts find it by its external id), and the incidents the demo gateway raised by
 * itself for the phishing it detected — waited for, as they come through the tunnel.
 */
export async function demoIntel(hub: Hub, orgName: string, waitMs = 60_000): Promise<DemoIntel> {
  const org = (await hub.services.orgs.list()).find((o) => o.name === orgName)
  if (!org) throw demoErrors.ORG_MISSING({ org: orgName })
  const caller = { kind: 'system' as const, orgId: org.id, userId: null, clientId: null }
  const { entities } = hub.privateIntel
  const [existing] = await entities.byExternalId(caller, 'casebook', CASEBOOK_REF, 1)
  const casebook =
    existing ??
    (await entities.create(
      caller,
      'casebook',
      {
        title: CASEBOOK_TITLE,
        description:
          'The credential phish (deceptive link) and the campaign that got through, with their senders.',
        external_ids: [CASEBOOK_REF],
        observables: PHISHING_OBSERVABLES.map((o) => ({ ...o })),
        tlp: 'amber',
      },
      { source: 'system' },
    ))
  const deadline = Date.now() + waitMs
  let incidents: DemoIntel['incidents'] = []
  for (;;) {
    const { hits } = await entities.search(caller, 'incident', { limit: 20 })
    incidents = hits
      .filter((i) => i.owner === 'postern-hub')
      .map((i) => ({
        id: `${hub.url}/ctia/incident/${i.id}`,
        title: String(i.doc.title ?? ''),
        status: String(i.doc.status ?? ''),
      }))
    if (incidents.length > 0 || Date.now() > deadline) break
    await new Promise((r) => setTimeout(r, 250))
  }
  const observables = casebook.doc.observables
  return {
    casebook: {
      id: `${hub.url}/ctia/casebook/${casebook.id}`,
      title: String(casebook.doc.title),
      observables: Array.isArray(observables) ? observables.length : 0,
    },
    incidents,
  }
}
