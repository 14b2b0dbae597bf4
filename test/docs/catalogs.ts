import { coreErrors, type DocumentedCatalog, type CatalogEntry } from '@postern/core'
import { storeErrors } from '@postern/store'
import { httpErrors } from '@postern/http'
import { hubErrors } from '@postern/hub'
import { tunnelErrors } from '@postern/tunnel'
import { cloudErrors } from '@postern/gateway/cloud'
import { ctimErrors } from '@postern/ctim'
import { relayErrors } from '@postern/relay'
import { remediationErrors } from '../../apps/gateway/src/remediation/errors.js'

type Catalog = Record<string, { code: string; spec: CatalogEntry['spec'] }>

function entries(catalog: Catalog): CatalogEntry[] {
  return Object.values(catalog).map(({ code, spec }) => ({ code, spec }))
}

/** Every error catalog of the project, in the order docs/errors.md lists them. Add new ones here. */
export const documentedCatalogs: DocumentedCatalog[] = [
  { title: 'Core (`CORE`)', entries: entries(coreErrors) },
  { title: 'Storage (`STORE`)', entries: entries(storeErrors) },
  { title: 'HTTP APIs (`HTTP`)', entries: entries(httpErrors) },
  { title: 'Hub (`HUB`)', entries: entries(hubErrors) },
  { title: 'Gateway↔hub tunnel (`TUNNEL`)', entries: entries(tunnelErrors) },
  { title: 'Gateway cloud services (`GW_CLOUD`)', entries: entries(cloudErrors) },
  { title: 'CTIM, inspect and exchange formats (`CTIM`)', entries: entries(ctimErrors) },
  { title: 'Relay modules (`RELAY`)', entries: entries(relayErrors) },
  {
    title: 'Gateway remediation, tracking search and reporting (`GW`)',
    entries: entries(remediationErrors),
  },
]
