import { silentLogger } from '@postern/core'
import type { Hub } from '@postern/hub'
import { TUNNEL_METHODS, TunnelClient, moduleCall } from '@postern/tunnel'

/** What a gateway answers to one relay call (path like `/observe/observables`). */
export type RelayAnswer = (path: string, body: unknown, signal: AbortSignal) => Promise<unknown>

/**
 * Registers a device in the hub's organisation with a one-time token, as `postern register`
 * does; the credential is what the gateway's tunnel presents.
 */
export async function registerGatewayDevice(
  hub: Hub,
  org: string,
  name: string,
): Promise<{ deviceId: string; credential: string }> {
  const registration = await hub.services.devices.register(
    {
      token: (await hub.admin.createRegistrationToken({ org })).token,
      uid: `UID-${name}`,
      model: 'postern-gateway',
      version: '0.1.0',
      hostname: `${name}.example.org`,
      deployment: 'standalone',
      clusterName: null,
      name,
    },
    null,
  )
  return { deviceId: registration.device.id, credential: registration.credential }
}

/**
 * A gateway's tunnel: a real `TunnelClient` over WebSocket, connected as a gateway connects,
 * serving the relay contract's `module.call` with the given answers. The caller stops it.
 */
export function connectGatewayTunnel(options: {
  hubUrl: string
  credential: string
  answer: RelayAnswer
}): TunnelClient {
  const client = new TunnelClient({
    url: `${options.hubUrl.replace(/^http/, 'ws')}/api/v1/tunnel`,
    credential: () => options.credential,
    logger: silentLogger(),
    backoff: { initialMs: 50, maxMs: 500 },
    handlers: {
      requests: {
        [TUNNEL_METHODS.moduleCall]: async (params, call) => {
          const parsed = moduleCall.parse(params)
          return options.answer(parsed.path, parsed.body, call.signal)
        },
      },
    },
  })
  client.start()
  return client
}
