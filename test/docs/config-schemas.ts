import { gatewayConfigSchema } from '@postern/gateway'
import type { DocumentedConfig } from './config-doc.js'

/** Every app's configuration schema, in the order docs/configuration.md lists them. Add yours here. */
export const documentedConfigs: DocumentedConfig[] = [
  {
    title: 'Gateway',
    command: 'postern gateway --config FILE',
    intro:
      'The SMTP gateway: listeners with their host and recipient access tables, routes, the ' +
      'queue, the spool, tracking and the HTTP API. See [operations](operations.md) for examples.',
    schema: gatewayConfigSchema,
  },
]
