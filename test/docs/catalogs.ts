import { coreErrors, type DocumentedCatalog, type CatalogEntry } from '@postern/core'
import { storeErrors } from '@postern/store'
import { httpErrors } from '@postern/http'
import { privateIntelErrors } from '../../apps/hub/src/casebooks/private-intel-errors.js'
import { gwErrors } from '../../apps/gateway/src/errors.js'
import { ctimErrors } from '@postern/ctim'
import { relayErrors } from '@postern/relay'
import { demoErrors } from '@postern/demo'
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
  { title: 'Hub private intelligence (`HUB_PI`)', entries: entries(privateIntelErrors) },
  { title: 'Gateway (`GW`)', entries: entries(gwErrors) },
  { title: 'CTIM, inspect and exchange formats (`CTIM`)', entries: entries(ctimErrors) },
  { title: 'Relay modules (`RELAY`)', entries: entries(relayErrors) },
  { title: 'Demo (`DEMO`)', entries: entries(demoErrors) },
  { title: 'Hub (`HUB`)', entries: entries(hubErrors) },
  { title: 'Gateway↔hub tunnel (`TUNNEL`)', entries: entries(tunnelErrors) },
  { title: 'Gateway cloud services (`GW_CLOUD`)', entries: entries(cloudErrors) },
]
