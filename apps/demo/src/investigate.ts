import { randomBytes } from 'node:crypto'
import type { Hub } from '@postern/hub'

/** The phishing sample's sender domain: what the analyst blocks on every gateway. */
export const PHISHING_DOMAIN = 'bank-alerts.example'

export interface InvestigateOutcome {
  /** What inspect found in the pasted report. */
  observables: { type: string; value: string }[]
  /** Recommended steps for what the report names, first in the respond list. */
  recommended: { action: string; observable: string; reason: string }[]
  block: { domain: string; status: string; gateways: string[] }
}

const REPORT = [
  'Phishing report forwarded by alice@example.com:',
  'From: "Bank Security" <security@bank-alerts[.]example>',
  'Subject: Unusual sign-in',
  'Link: hxxps://www.mybank[.]example/secure/login',
].join('\n')

/**
 * The analyst's loop on the hub (seed §1, §4): a paste of a phishing report is inspected, the
 * respond list for its sender shows the recommended steps, and the sender's domain is blocked
 * on every gateway of the organisation through the email gateway module — the gateway then
 * refuses that domain at MAIL FROM.
 */
export async function investigateAndRespond(hub: Hub): Promise<InvestigateOutcome> {
  const { client, secret } = await hub.admin.createApiClient({
    name: `demo-analyst-${randomBytes(3).toString('hex')}`,
    scopes: ['inspect:read', 'enrich:read', 'integration', 'response'],
  })
  const tokenResponse = await fetch(`${hub.url}/iroh/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.id}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  })
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string }
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${hub.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    if (!response.ok) throw new Error(`hub ${method} ${path}: HTTP ${response.status}`)
    return (await response.json()) as T
  }

  const instances = await call<{ name: string }[]>('GET', '/iroh/iroh-int/module-instance')
  if (!instances.some((i) => i.name === 'Gateways')) {
    await call('POST', '/iroh/iroh-int/module-instance', {
      name: 'Gateways',
      module_type_id: 'postern-email-gateway',
    })
  }
  const observables = await call<{ type: string; value: string }[]>(
    'POST',
    '/iroh/iroh-inspect/inspect',
    { content: REPORT },
  )
  type Action = {
    module: string
    id: string
    url: string
    recommended?: boolean
    reason?: string
    'query-params': { observable_type: string; observable_value: string }
  }
  const listed = await call<{ data: Action[] }>(
    'POST',
    '/iroh/iroh-response/respond/observables',
    observables,
  )
  const recommended = listed.data
    .filter((a) => a.recommended)
    .map((a) => ({
      action: a.id,
      observable: `${a['query-params'].observable_type} ${a['query-params'].observable_value}`,
      reason: a.reason ?? '',
    }))

  const domainActions = await call<{ data: Action[] }>(
    'POST',
    '/iroh/iroh-response/respond/observables',
    [{ type: 'domain', value: PHISHING_DOMAIN }],
  )
  const block = domainActions.data.find((a) => a.module === 'Gateways' && a.id === 'block')
  if (!block)
    return {
      observables,
      recommended,
      block: { domain: PHISHING_DOMAIN, status: 'not offered', gateways: [] },
    }
  const triggered = await call<{ data: { status: string; results?: { gateway?: string }[] } }>(
    'POST',
    `/iroh/iroh-response${block.url}&reason=${encodeURIComponent('demo: phishing sender domain')}`,
  )
  return {
    observables,
    recommended,
    block: {
      domain: PHISHING_DOMAIN,
      status: triggered.data.status,
      gateways: (triggered.data.results ?? []).map((r) => r.gateway ?? '?'),
    },
  }
}
