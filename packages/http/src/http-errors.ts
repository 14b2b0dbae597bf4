import { defineErrors } from '@postern/core'

/** Errors every HTTP API of ours can answer, whatever the app. */
export const httpErrors = defineErrors('HTTP', {
  VALIDATION: {
    message: 'The request is invalid: {issues}',
    hint: 'Correct the fields listed in "issues"; the OpenAPI document at /api/v1/openapi.json describes every field.',
    status: 400,
  },
  NOT_FOUND: {
    message: 'No route {method} {url}',
    hint: 'Check the path and method against /api/v1/openapi.json.',
    status: 404,
  },
  UNAUTHENTICATED: {
    message: 'Authentication is required',
    hint: 'Send "Authorization: Bearer <token>" with a valid, unexpired token, or log in again.',
    status: 401,
  },
  FORBIDDEN: {
    message: 'Your role or token does not allow {action}',
    hint: 'Ask an administrator for a role or token that includes this permission.',
    status: 403,
  },
  PAYLOAD_TOO_LARGE: {
    message: 'The request body is larger than {limit} bytes',
    hint: 'Send a smaller body; split large imports into several requests.',
    status: 413,
  },
  RATE_LIMITED: {
    message: 'Too many requests',
    hint: 'Wait for the time given in Retry-After and try again.',
    status: 429,
  },
  CONSOLE_NOT_BUILT: {
    message: 'The web console is not built (nothing in {dir})',
    hint: 'Run "npm run build" at the repository root; it builds apps/web.',
    status: 503,
  },
  INTERNAL: {
    message: 'An unexpected error occurred (trace id {traceId})',
    hint: 'The error was logged with this trace id; give it to your administrator.',
    status: 500,
  },
})
