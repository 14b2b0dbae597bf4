import type { Hub } from '@postern/hub'
import { ActionRequestsRepo } from '@postern/store'
import { demoErrors } from './errors.js'
import { PHISHING_OBSERVABLES } from './samples.js'

/** What the demo shows of the hub's private intelligence. */
export interface DemoIntel {
  casebook: { id: string; title: string; observables: number }
  /** Incidents the demo gateway raised through the tunnel (automatic incidents). */
  incidents: { id: string; title: string; status: string }[]
  /**
   * The org's block push policy (approval required) and an analyst's judgement push waiting
   * for the admin's approval in the console.
   */
  blockPush: {
    approvalRequired: boolean
    judgement: string
    observable: { type: string; value: string }
    approvalId: string
    status: string
    requestedBy: string
  }
}

const CASEBOOK_REF = 'postern-demo-phishing'
const JUDGEMENT_REF = 'postern-demo-sender-judgement'
const ANALYST_EMAIL = 'analyst@example.com'
/** The campaign's sender, judged Malicious by the demo analyst. */
const JUDGED_SENDER = { type: 'email', value: 'shares@docs-share.example' }
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
    blockPush: await pendingBlockPush(hub, org.id),
  }
}

/**
 * Block pushes under approval: the org's policy asks for a second user, and an analyst's push
 * of a Malicious judgement on the campaign's sender waits for the admin (the printed login) to
 * approve it in the console. Made once; later starts find the judgement and its request.
 */
async function pendingBlockPush(hub: Hub, orgId: string): Promise<DemoIntel['blockPush']> {
  const { privateIntel } = hub
  const system = { kind: 'system' as const, orgId, userId: null, clientId: null }
  if (!(await privateIntel.blockPushPolicy.approvalRequired(orgId)))
    await privateIntel.blockPushPolicy.set(system, { approval_required: true })
  const users = await hub.services.repos.users.list(orgId)
  const analyst =
    users.find((u) => u.email === ANALYST_EMAIL) ??
    (await hub.admin.createUser({ org: orgId, email: ANALYST_EMAIL, role: 'analyst' })).user
  const caller = { kind: 'user' as const, orgId, userId: analyst.id, clientId: null }
  const [existing] = await privateIntel.entities.byExternalId(caller, 'judgement', JUDGEMENT_REF, 1)
  const judgement =
    existing ??
    (await privateIntel.judgements.create(
      caller,
      {
        observable: JUDGED_SENDER,
        disposition: 2,
        disposition_name: 'Malicious',
        priority: 95,
        confidence: 'High',
        severity: 'High',
        source: 'Demo analyst',
        reason: 'Sender of the delivered document-share campaign',
        external_ids: [JUDGEMENT_REF],
      },
      { source: 'system' },
    ))
  const requests = new ActionRequestsRepo(hub.services.database.db)
  const filed =
    (await requests.list(orgId)).find((r) => r.extras.entity_id === judgement.id) ??
    (await (async () => {
      const push = await privateIntel.gatedBlockPush?.push(caller, 'judgement', judgement.id, {
        expiresAt: null,
        context: { source: 'system' },
      })
      if (push?.status !== 'pending') throw demoErrors.PUSH_NOT_PENDING()
      return push.request
    })())
  return {
    approvalRequired: true,
    judgement: `${hub.url}/ctia/judgement/${judgement.id}`,
    observable: JUDGED_SENDER,
    approvalId: filed.id,
    status: filed.status,
    requestedBy: ANALYST_EMAIL,
  }
}
