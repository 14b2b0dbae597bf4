/**
 * Authentication and authorisation refusals in the exact shapes of the Threat Response API
 * (reference §1 "IROH error bodies"), answered on every hub route so that existing clients —
 * which refetch a token on 401 — behave the same against the hub.
 */
export const NO_JWT_DESCRIPTION = 'No JWT found in HTTP Authorization header'

export interface Iroh401Body {
  error: 'invalid_request'
  error_description: string
  trace_id: string
}

export interface Iroh403Body {
  error: 'missing_scope'
  error_description: string
  'missing-scopes': string[]
  'required-scopes': string[]
  scopes: string[]
  'user-id': string | null
  'org-id': string
  trace_id: string
}

export function unauthorisedBody(description: string, traceId: string): Iroh401Body {
  return { error: 'invalid_request', error_description: description, trace_id: traceId }
}

export function missingScopeBody(input: {
  required: string
  held: readonly string[]
  userId: string | null
  orgId: string
  traceId: string
}): Iroh403Body {
  return {
    error: 'missing_scope',
    error_description: 'You do not have the required credentials to access this route.',
    'missing-scopes': [input.required],
    'required-scopes': [input.required],
    scopes: [...input.held],
    'user-id': input.userId,
    'org-id': input.orgId,
    trace_id: input.traceId,
  }
}

/** 500 body of the IROH routes (for `/iroh/...` plugins' error handlers). */
export function unknownExceptionBody(traceId: string): {
  error: string
  error_description: string
  trace_id: string
} {
  return {
    error: 'unknown-exception',
    error_description: 'This exception has been logged for further inspection.',
    trace_id: traceId,
  }
}
