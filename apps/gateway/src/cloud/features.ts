import type { GatewayConfig } from '../config.js'
import type { FeatureState } from './telemetry.js'

/**
 * The gateway features usage telemetry reports, read from the running configuration (seed §5:
 * "which features are enabled"). Names are stable: the hub groups statistics by them and by the
 * feature id derived from them. Features owned by other areas (content scanning, remediation)
 * are added by those areas through `cloudExtension({ features })`.
 */
export function gatewayFeatures(config: GatewayConfig): FeatureState[] {
  const listeners = config.listeners
  const rules = listeners.flatMap((l) => l.hat)
  const certificate = Boolean(config.tls.cert && config.tls.key) || config.tls.selfSigned
  const listenerHasCertificate = (l: (typeof listeners)[number]): boolean =>
    certificate || Boolean(l.tls.cert && l.tls.key)
  return [
    { name: 'SMTP Listeners', enabled: listeners.length > 0 },
    {
      name: 'STARTTLS',
      enabled: listeners.some(
        (l) => l.tls.starttls && !l.tls.implicit && listenerHasCertificate(l),
      ),
    },
    { name: 'Implicit TLS', enabled: listeners.some((l) => l.tls.implicit) },
    { name: 'TLS Required (Inbound)', enabled: rules.some((r) => r.tls === 'required') },
    { name: 'SMTP Authentication', enabled: listeners.some((l) => l.auth.enabled) },
    { name: 'Pregreet Detection', enabled: rules.some((r) => r.pregreet > 0) },
    {
      name: 'Sender Rate Limiting',
      enabled: rules.some((r) => r.rate !== undefined || r.policy === 'THROTTLED'),
    },
    {
      name: 'SMTP Smuggling Protection',
      enabled: listeners.length > 0 && listeners.every((l) => l.lineEndings === 'reject'),
    },
    { name: 'Recipient Access Table', enabled: listeners.some((l) => l.rat.length > 0) },
    { name: 'SMTP Routes', enabled: config.smtpRoutes.length > 0 },
    {
      name: 'TLS Required (Outbound)',
      enabled: config.smtpRoutes.some((r) => r.tls === 'required'),
    },
    // The spool and message tracking are always on: every accepted message is made durable
    // before 250 and tracked; they are reported so the hub sees the whole feature set.
    { name: 'Durable Spool', enabled: true },
    { name: 'Message Tracking', enabled: true },
    { name: 'Reverse DNS for Tracking', enabled: config.rdns.forTracking },
    { name: 'Public Metrics', enabled: config.api.publicMetrics },
  ]
}
