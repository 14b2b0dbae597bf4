import type { ActorType, AuditSource } from '@postern/store'

/** Who asks and from where: recorded with every remediation attempt and profile change. */
export interface RequestContext {
  actor: { type: ActorType; id: string }
  /** `api` (token or console user), `cli`, `hub` (through the tunnel), `system` (retro). */
  source: AuditSource
  remoteIp?: string | null
}

export const SYSTEM_RETRO_CONTEXT: RequestContext = {
  actor: { type: 'system', id: 'retro-remediation' },
  source: 'system',
  remoteIp: null,
}
