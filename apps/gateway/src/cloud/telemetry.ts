import { createHash } from 'node:crypto'
import type { TelemetryFeature, TelemetryPayload } from '@postern/tunnel'

/** A feature as the gateway's configuration sees it; the payload adds the seed's other fields. */
export interface FeatureState {
  name: string
  enabled: boolean
}

// Namespace of feature ids (RFC 4122 §4.3 name-based UUIDs): the same feature name gives the
// same id on every gateway, which is what makes per-feature statistics possible on the hub.
const FEATURE_NAMESPACE = '6f1c2a3e-4b5d-4e6f-8a7b-9c0d1e2f3a4b'

/** UUID version 5 (SHA-1, RFC 4122 §4.3) of `name` in the feature namespace. */
export function featureId(name: string): string {
  const ns = Buffer.from(FEATURE_NAMESPACE.replace(/-/g, ''), 'hex')
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest()
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80
  const hex = hash.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

export interface TelemetryInput {
  uid: string
  model: string
  version: string
  installDate: number
  deployment: 'cluster' | 'standalone'
  accountId: string | null
  features: readonly FeatureState[]
  now: number
}

/**
 * Builds the usage-telemetry payload with the seed's fields (§5 table): UID, model, sIVAN,
 * deployment, account id, version, install date (epoch ms) and, per feature, name, enabled,
 * status, expiry (epoch s) and feature id. Postern has no licences: every feature's status is
 * `compliance` and nothing expires (null).
 */
export function buildTelemetryPayload(input: TelemetryInput): TelemetryPayload {
  const features: TelemetryFeature[] = [...input.features]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((f) => ({
      name: f.name,
      enabled: f.enabled,
      status: 'compliance',
      expiry: null,
      featureId: featureId(f.name),
    }))
  return {
    uid: input.uid,
    model: input.model,
    sIVAN: null,
    deployment: input.deployment,
    userAccountID: input.accountId,
    version: input.version,
    installDate: input.installDate,
    features,
    generatedAt: input.now,
  }
}

/** Digest of what a payload says (not when it was built), to send again only on change. */
export function telemetryDigest(payload: TelemetryPayload): string {
  const { generatedAt: _ignored, ...content } = payload
  return createHash('sha256').update(JSON.stringify(content)).digest('hex')
}
