import { formatHostPort } from '@postern/core'
import { mountRelayModule, type RelayModule } from '@postern/relay'
import { TrackingSearchRepository } from '@postern/store'
import type { Gateway, GatewayExtension } from '../gateway.js'
import type { ContentPipelineSetup } from '../pipeline/setup.js'
import type { RemediationExtension } from '../remediation/extension.js'
import { createGatewayRelayModule } from './module.js'

export interface RelayModuleExtension extends GatewayExtension {
  /** Set by `setup`: serve it over the tunnel with `serveRelayModuleOverTunnel`. */
  module: RelayModule | undefined
}

/**
 * The gateway as a relay module, plugged into the gateway after the remediation extension
 * (whose tracked remediation answers the message actions) and the content pipeline (whose
 * block list service runs the block actions; `content` reads its setup once it is ready). With
 * `relayModule.https.enabled` the contract is also mounted on the gateway's HTTP API with
 * configuration-token auth.
 */
export function relayModuleExtension(
  remediation?: RemediationExtension,
  content?: () => ContentPipelineSetup | undefined,
): RelayModuleExtension {
  const extension: RelayModuleExtension = {
    name: 'relay-module',
    module: undefined,
    async setup(gateway: Gateway) {
      const config = gateway.config.relayModule
      const pipeline = content?.()
      const module = createGatewayRelayModule({
        search: new TrackingSearchRepository(gateway.database.db, gateway.database.dialect),
        tracked: remediation?.parts?.tracked,
        ...(pipeline
          ? {
              blocks: {
                blocklists: pipeline.blocklists,
                isInternalAddress: (address: string) =>
                  pipeline.knowledge.isInternalAddress(address),
              },
            }
          : {}),
        gatewayName: gateway.config.hostname,
        // The API's bound address is known once the gateway started (port 0 in tests).
        consoleUrl: () => config.consoleUrl ?? `http://${formatHostPort(gateway.addresses.http)}`,
        maxMessagesPerObservable: config.maxMessagesPerObservable,
        clock: gateway.clock,
      })
      if (config.https.enabled) {
        const { https } = config
        await mountRelayModule(gateway.http, module, {
          prefix: https.prefix,
          auth: {
            type: 'configuration-token',
            audience: https.audience,
            trustedJwksHosts: https.trustedJwksHosts,
            jwksUrl: (host) => `${https.jwksScheme}://${host}/.well-known/jwks`,
          },
        })
      }
      extension.module = module
    },
  }
  return extension
}
