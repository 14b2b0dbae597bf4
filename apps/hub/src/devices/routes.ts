import { z } from 'zod'
import type { HttpApp } from '@postern/http'
import {
  deviceIdParams,
  deviceView,
  registrationTokenView,
  toDeviceView,
  toRegistrationTokenView,
} from '../api/views.js'
import { auditActor } from '../auth/principal.js'
import { hubErrors } from '../errors.js'
import type { HubServices } from '../services.js'
import { TUNNEL_PATH, type DeviceTunnel } from '../tunnel/device-tunnel.js'

const hostnameText = z.string().min(1).max(253)

/** Registration body: the token and the device's facts (seed step 3–4). */
export const registrationBody = z
  .object({
    token: z.string().min(1).max(200),
    uid: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces'),
    model: z.string().min(1).max(64),
    version: z.string().min(1).max(64),
    hostname: hostnameText,
    deployment: z.enum(['standalone', 'cluster']),
    clusterName: z.string().min(1).max(128).nullable().default(null),
    name: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe('Name shown in the device list (default: the hostname)'),
  })
  .strict()
  .refine((b) => (b.deployment === 'cluster') === (b.clusterName !== null), {
    message: 'clusterName is required for deployment "cluster" and must be null for "standalone"',
    path: ['clusterName'],
  })

export const registrationReply = z.object({
  deviceId: z.string(),
  orgId: z.string(),
  name: z.string(),
  region: z.string(),
  credential: z.string().describe('Device credential; shown only in this reply'),
  hubUrl: z.string(),
  tunnelUrl: z.string(),
})

/** Devices: registration tokens, registration, the device list, rename, deregistration, telemetry. */
export function registerDeviceRoutes(
  app: HttpApp,
  services: HubServices,
  tunnel: DeviceTunnel,
): void {
  const { devices } = services
  const tunnelUrl = (): string => `${services.publicUrl.replace(/^http/, 'ws')}${TUNNEL_PATH}`

  app.post(
    '/api/v1/devices/registration-tokens',
    {
      config: { scope: 'devices:write' },
      schema: {
        summary:
          'Create a single-use device registration token; the token is shown only in this reply',
        tags: ['devices'],
        body: z
          .object({
            label: z.string().max(200).optional(),
            expiresInSeconds: z
              .number()
              .int()
              .min(60)
              .max(30 * 86_400)
              .optional(),
          })
          .strict()
          .prefault({}),
        response: { 201: registrationTokenView.extend({ token: z.string() }) },
      },
    },
    async (request, reply) => {
      const { token, record } = await devices.createRegistrationToken(
        {
          orgId: request.auth.orgId,
          label: request.body.label,
          ttlMs:
            request.body.expiresInSeconds === undefined
              ? undefined
              : request.body.expiresInSeconds * 1000,
        },
        auditActor(request.auth),
        request.ip,
      )
      return reply
        .code(201)
        .send({ ...toRegistrationTokenView(record, services.clock.now()), token })
    },
  )

  app.get(
    '/api/v1/devices/registration-tokens',
    {
      config: { scope: 'devices:read' },
      schema: {
        summary: 'List registration tokens (never the tokens themselves)',
        tags: ['devices'],
        response: { 200: z.object({ items: z.array(registrationTokenView) }) },
      },
    },
    async (request) => {
      const now = services.clock.now()
      return {
        items: (await devices.listRegistrationTokens(request.auth.orgId)).map((t) =>
          toRegistrationTokenView(t, now),
        ),
      }
    },
  )

  app.delete(
    '/api/v1/devices/registration-tokens/:tokenId',
    {
      config: { scope: 'devices:write' },
      schema: {
        summary: 'Revoke an unused registration token',
        tags: ['devices'],
        params: z.object({ tokenId: z.string().min(1).max(64) }).strict(),
      },
    },
    async (request, reply) => {
      await devices.revokeRegistrationToken(
        request.auth.orgId,
        request.params.tokenId,
        auditActor(request.auth),
        request.ip,
      )
      return reply.code(204).send()
    },
  )

  app.post(
    '/api/v1/devices/register',
    {
      config: { public: true },
      schema: {
        summary: 'Register a device with a registration token; returns its credential',
        tags: ['devices'],
        security: [],
        body: registrationBody,
        response: { 201: registrationReply },
      },
    },
    async (request, reply) => {
      const { device, credential } = await devices.register(request.body, request.ip)
      return reply.code(201).send({
        deviceId: device.id,
        orgId: device.orgId,
        name: device.name,
        region: device.region,
        credential,
        hubUrl: services.publicUrl,
        tunnelUrl: tunnelUrl(),
      })
    },
  )

  app.get(
    '/api/v1/devices/self',
    {
      config: { device: true },
      schema: {
        summary: 'The calling device (device credential)',
        tags: ['devices'],
        response: { 200: deviceView },
      },
    },
    async (request) => toDeviceView(devices.view(request.device)),
  )

  app.post(
    '/api/v1/devices/self/deregister',
    {
      config: { device: true },
      schema: { summary: 'Deregister the calling device (device credential)', tags: ['devices'] },
    },
    async (request, reply) => {
      await devices.deregister(
        request.device.orgId,
        request.device.id,
        { type: 'device', id: request.device.id },
        request.ip,
      )
      return reply.code(204).send()
    },
  )

  app.get(
    '/api/v1/devices',
    {
      config: { scope: 'devices:read' },
      schema: {
        summary: 'List devices with their status',
        tags: ['devices'],
        querystring: z.object({ includeDeregistered: z.stringbool().default(false) }).strict(),
        response: { 200: z.object({ items: z.array(deviceView) }) },
      },
    },
    async (request) => ({
      items: (
        await devices.list(request.auth.orgId, {
          includeDeregistered: request.query.includeDeregistered,
        })
      ).map(toDeviceView),
    }),
  )

  app.get(
    '/api/v1/devices/:deviceId',
    {
      config: { scope: 'devices:read' },
      schema: {
        summary: 'One device',
        tags: ['devices'],
        params: deviceIdParams,
        response: { 200: deviceView },
      },
    },
    async (request) => toDeviceView(await devices.get(request.auth.orgId, request.params.deviceId)),
  )

  app.patch(
    '/api/v1/devices/:deviceId',
    {
      config: { scope: 'devices:write' },
      schema: {
        summary: 'Rename a device',
        tags: ['devices'],
        params: deviceIdParams,
        body: z.object({ name: z.string().trim().min(1).max(200) }).strict(),
        response: { 200: deviceView },
      },
    },
    async (request) =>
      toDeviceView(
        await devices.rename(
          request.auth.orgId,
          request.params.deviceId,
          request.body.name,
          auditActor(request.auth),
          request.ip,
        ),
      ),
  )

  app.delete(
    '/api/v1/devices/:deviceId',
    {
      config: { scope: 'devices:write' },
      schema: {
        summary: 'Deregister a device: its credential is revoked and its tunnel closed at once',
        tags: ['devices'],
        params: deviceIdParams,
      },
    },
    async (request, reply) => {
      await devices.deregister(
        request.auth.orgId,
        request.params.deviceId,
        auditActor(request.auth),
        request.ip,
      )
      return reply.code(204).send()
    },
  )

  app.post(
    '/api/v1/devices/:deviceId/health',
    {
      config: { scope: 'devices:read' },
      schema: {
        summary: "Calls the device's relay-module /health through its tunnel",
        tags: ['devices'],
        params: deviceIdParams,
        response: { 200: z.object({ deviceId: z.string(), reply: z.unknown() }) },
      },
    },
    async (request) => {
      const device = await devices.get(request.auth.orgId, request.params.deviceId)
      if (!tunnel.isConnected(device.id))
        throw hubErrors.DEVICE_NOT_CONNECTED({ deviceId: device.id })
      const reply = await tunnel.callModule(request.auth.orgId, device.id, '/health', null, {
        timeoutMs: 10_000,
      })
      return { deviceId: device.id, reply }
    },
  )

  app.get(
    '/api/v1/devices/:deviceId/telemetry',
    {
      config: { scope: 'devices:read' },
      schema: {
        summary: 'Usage telemetry reports of a device, newest first',
        tags: ['devices', 'telemetry'],
        params: deviceIdParams,
        querystring: z
          .object({ limit: z.coerce.number().int().min(1).max(1000).default(50) })
          .strict(),
        response: {
          200: z.object({
            items: z.array(
              z.object({ id: z.number(), receivedAt: z.number(), payload: z.unknown() }),
            ),
          }),
        },
      },
    },
    async (request) => {
      await devices.get(request.auth.orgId, request.params.deviceId)
      const records = await services.telemetry.listForDevice(
        request.auth.orgId,
        request.params.deviceId,
        request.query.limit,
      )
      return {
        items: records.map((r) => ({ id: r.id, receivedAt: r.receivedAt, payload: r.payload })),
      }
    },
  )
}
