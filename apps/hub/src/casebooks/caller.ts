/**
 * Who performs a private-intelligence operation. Structurally the subset of the hub's
 * authenticated principal (`request.auth`) this area needs, so services stay testable without
 * HTTP and the gateway event handlers can act as the hub itself.
 */
export interface Caller {
  kind: 'user' | 'client' | 'system'
  orgId: string
  userId: string | null
  clientId: string | null
}

/** CTIA's `owner`: the user, else the API client, else the hub itself. */
export function ownerOf(caller: Caller): string {
  return caller.userId ?? caller.clientId ?? 'postern-hub'
}

/** The actor recorded in the audit log. */
export function auditActorOf(caller: Caller): { type: 'user' | 'client' | 'system'; id: string } {
  if (caller.kind === 'client') return { type: 'client', id: caller.clientId ?? 'unknown' }
  if (caller.kind === 'user') return { type: 'user', id: caller.userId ?? 'unknown' }
  return { type: 'system', id: 'postern-hub' }
}
