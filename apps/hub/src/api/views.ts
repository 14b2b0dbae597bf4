import { z } from 'zod'
import type { ApiClient, AuditEntry, RegistrationToken, User } from '@postern/store'
import type { DeviceView } from '../devices/device-service.js'

/** Response shapes of the hub's /api/v1 routes (also the OpenAPI document's schemas). */
const epochMs = z.number().int().describe('Epoch milliseconds')

export const userView = z.object({
  id: z.string(),
  orgId: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.string(),
  enabled: z.boolean(),
  createdAt: epochMs,
  lastLoginAt: epochMs.nullable(),
})
export const toUserView = (u: User): z.infer<typeof userView> => ({
  id: u.id,
  orgId: u.orgId,
  email: u.email,
  name: u.name,
  role: u.role,
  enabled: u.enabled,
  createdAt: u.createdAt,
  lastLoginAt: u.lastLoginAt,
})

export const clientView = z.object({
  clientId: z.string(),
  name: z.string(),
  description: z.string(),
  scopes: z.array(z.string()),
  ownerUserId: z.string().nullable(),
  createdAt: epochMs,
  expiresAt: epochMs.nullable(),
  revokedAt: epochMs.nullable(),
  lastUsedAt: epochMs.nullable(),
  status: z.enum(['active', 'revoked', 'expired']),
})
export const toClientView = (c: ApiClient, now: number): z.infer<typeof clientView> => ({
  clientId: c.id,
  name: c.name,
  description: c.description,
  scopes: c.scopes,
  ownerUserId: c.ownerUserId,
  createdAt: c.createdAt,
  expiresAt: c.expiresAt,
  revokedAt: c.revokedAt,
  lastUsedAt: c.lastUsedAt,
  status:
    c.revokedAt !== null
      ? 'revoked'
      : c.expiresAt !== null && c.expiresAt <= now
        ? 'expired'
        : 'active',
})

export const registrationTokenView = z.object({
  id: z.string(),
  label: z.string(),
  createdAt: epochMs,
  expiresAt: epochMs,
  usedAt: epochMs.nullable(),
  deviceId: z.string().nullable(),
  status: z.enum(['unused', 'used', 'expired', 'revoked']),
})
export const toRegistrationTokenView = (
  t: RegistrationToken,
  now: number,
): z.infer<typeof registrationTokenView> => ({
  id: t.id,
  label: t.label,
  createdAt: t.createdAt,
  expiresAt: t.expiresAt,
  usedAt: t.usedAt,
  deviceId: t.deviceId,
  status:
    t.revokedAt !== null
      ? 'revoked'
      : t.usedAt !== null
        ? 'used'
        : t.expiresAt <= now
          ? 'expired'
          : 'unused',
})

export const deviceView = z.object({
  id: z.string(),
  name: z.string(),
  uid: z.string(),
  model: z.string(),
  version: z.string(),
  hostname: z.string(),
  deployment: z
    .enum(['standalone', 'cluster'])
    .describe('standalone, or one machine of a cluster (machine-mode registration)'),
  clusterName: z.string().nullable(),
  region: z.string(),
  status: z.enum(['connected', 'disconnected']),
  threatResponse: z.enum(['enabled', 'disabled', 'unknown']),
  telemetryEnabled: z.boolean().nullable(),
  registeredAt: epochMs,
  deregisteredAt: epochMs.nullable(),
  lastSeenAt: epochMs.nullable(),
  connectedAt: epochMs.nullable(),
  connectedNode: z
    .string()
    .nullable()
    .describe('The hub node holding the tunnel (config nodeId), null while disconnected'),
})
export const toDeviceView = (d: DeviceView): z.infer<typeof deviceView> => ({
  id: d.id,
  name: d.name,
  uid: d.uid,
  model: d.model,
  version: d.version,
  hostname: d.hostname,
  deployment: d.deployment,
  clusterName: d.clusterName,
  region: d.region,
  status: d.status,
  threatResponse: d.threatResponse,
  telemetryEnabled: d.telemetryEnabled,
  registeredAt: d.registeredAt,
  deregisteredAt: d.deregisteredAt,
  lastSeenAt: d.lastSeenAt,
  connectedAt: d.connectedAt,
  connectedNode: d.connectedNode,
})

export const auditEntryView = z.object({
  id: z.number(),
  at: epochMs,
  actor: z.object({ type: z.string(), id: z.string() }),
  source: z.string(),
  remoteIp: z.string().nullable(),
  action: z.string(),
  target: z.object({ type: z.string(), id: z.string() }).nullable(),
  outcome: z.string(),
  details: z.record(z.string(), z.unknown()),
})
export const toAuditEntryView = (e: AuditEntry): z.infer<typeof auditEntryView> => ({
  id: e.id,
  at: e.at,
  actor: e.actor,
  source: e.source,
  remoteIp: e.remoteIp,
  action: e.action,
  target: e.target,
  outcome: e.outcome,
  details: e.details,
})

export const deviceIdParams = z.object({ deviceId: z.string().min(1).max(64) }).strict()
