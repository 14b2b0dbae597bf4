import type { Gateway, GatewayExtension } from '../gateway.js'
import { gatewayFeatures } from './features.js'
import { openCloudContext, type CloudContext } from './context.js'
import { cloudHostOf } from './load-host.js'
import { registerCloudRoutes } from './routes.js'
import type { FeatureState } from './telemetry.js'

export interface CloudExtensionOptions {
  /** Features of other areas (content scanning, remediation …) reported in usage telemetry. */
  features?: () => FeatureState[]
  /** Called once the context is open (tests and other extensions that call the hub's modules). */
  onContext?: (context: CloudContext, gateway: Gateway) => void
}

/**
 * Cloud services inside the gateway process: opens the cloud context over the gateway's own
 * database, starts the connector (tunnel to the hub, status, events, usage telemetry) once the
 * gateway listens, and stops it before storage closes. Settings changed with
 * `postern gateway cloudserviceconfig` are picked up while it runs.
 */
export function cloudExtension(options: CloudExtensionOptions = {}): GatewayExtension {
  return {
    name: 'cloud',
    async setup(gateway: Gateway) {
      const context = await openCloudContext({
        host: cloudHostOf(gateway.config),
        logger: gateway.logger,
        clock: gateway.clock,
        database: gateway.database,
        features: () => [...gatewayFeatures(gateway.config), ...(options.features?.() ?? [])],
      })
      options.onContext?.(context, gateway)
      registerCloudRoutes(gateway.http, context.cloud)
      gateway.onStart(() => context.connector().start())
      gateway.onStop(() => context.close())
    },
  }
}
