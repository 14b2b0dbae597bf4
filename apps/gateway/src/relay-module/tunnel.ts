import { dispatchRelayCall, RELAY_ROUTES, type RelayModule, type RelayRoute } from '@postern/relay'
import type { Logger } from '@postern/core'
import type { ModuleHandler } from '../cloud/modules.js'

const TUNNEL_ROUTES: RelayRoute[] = [
  'health',
  'observe',
  'deliberate',
  'refer',
  'respondObservables',
  'respondTrigger',
]

/**
 * Serves a relay module on the gateway's tunnel module registry (`module.call` from the hub):
 * each contract path answers through `dispatchRelayCall`, so the tunnel and HTTPS give the same
 * answers, validation and error entries. The tunnel itself authenticated the hub.
 */
export function serveRelayModuleOverTunnel(
  registry: { register(path: string, handler: ModuleHandler): void },
  module: RelayModule,
  logger: Logger,
): void {
  for (const route of TUNNEL_ROUTES) {
    registry.register(RELAY_ROUTES[route], (body, signal) =>
      dispatchRelayCall(module, route, body, {
        config: {},
        signal,
        log: logger.child({ relayRoute: RELAY_ROUTES[route], via: 'tunnel' }),
      }),
    )
  }
}
