import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import type { Principal } from '../api/auth.js'
import type { Actor, CloudService } from './cloud-service.js'

function actorOf(principal: Principal | undefined): Actor {
  return { type: 'user', id: principal ? `${principal.kind}:${principal.name}` : 'unknown' }
}

/**
 * Cloud Service Settings of the console (seed §2): the same operations as
 * `postern gateway cloudserviceconfig`, over HTTP. Reading is for any role, changing for admins.
 */
export function registerCloudRoutes(app: HttpApp, cloud: CloudService): void {
  app.get(
    '/api/v1/cloud',
    {
      config: { role: 'read-only' },
      schema: { summary: 'Cloud services: state, settings, registration and the server list' },
    },
    async () => ({ ...(await cloud.status()), servers: cloud.servers() }),
  )
  app.patch(
    '/api/v1/cloud/settings',
    {
      schema: {
        summary:
          'Enable cloud services, choose the server, switch Threat Response and usage telemetry',
        body: z
          .object({
            enabled: z.boolean().optional(),
            server: z.string().min(1).max(32).optional(),
            threatResponse: z.boolean().optional(),
            telemetry: z.boolean().optional(),
          })
          .strict(),
      },
    },
    async (request) => {
      const actor = actorOf(request.principal)
      const body = request.body
      if (body.enabled !== undefined) await cloud.setEnabled(body.enabled, actor)
      if (body.server !== undefined) await cloud.setServer(body.server, actor)
      if (body.threatResponse !== undefined)
        await cloud.setThreatResponse(body.threatResponse, actor)
      if (body.telemetry !== undefined) await cloud.setCsn(body.telemetry, actor)
      return { ...(await cloud.status()), servers: cloud.servers() }
    },
  )
  app.post(
    '/api/v1/cloud/register',
    {
      schema: {
        summary: 'Register with the hub using a registration token made in its Devices page',
        body: z.object({ token: z.string().min(1).max(500) }).strict(),
      },
    },
    async (request) => {
      await cloud.register(request.body.token, actorOf(request.principal))
      return { ...(await cloud.status()), servers: cloud.servers() }
    },
  )
  app.post(
    '/api/v1/cloud/deregister',
    { schema: { summary: 'Deregister from the hub' } },
    async (request) => {
      await cloud.deregister(actorOf(request.principal))
      return { ...(await cloud.status()), servers: cloud.servers() }
    },
  )
  app.get(
    '/api/v1/cloud/telemetry-preview',
    { schema: { summary: 'Show what usage telemetry sends (nothing is sent by this call)' } },
    async () => cloud.telemetryPreview(),
  )
}
