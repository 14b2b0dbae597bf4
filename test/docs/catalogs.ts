import { coreErrors, type DocumentedCatalog, type CatalogEntry } from '@postern/core'
import { storeErrors } from '@postern/store'
import { httpErrors } from '@postern/http'
import { hubErrors } from '@postern/hub'
import { tunnelErrors } from '@postern/tunnel'
import { cloudErrors } from '@postern/gateway/cloud'

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
]
