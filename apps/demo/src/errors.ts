import { defineErrors } from '@postern/core'

/** Errors of `postern demo`. */
export const demoErrors = defineErrors('DEMO', {
  PORT_IN_USE: {
    message: 'Port {port} on 127.0.0.1 is already in use ({what})',
    hint: 'Stop what uses it, or choose another port with {option} (0 picks a free one).',
  },
  GATEWAY_API_FAILED: {
    message: 'The demo gateway answered {status} to {method} {path}: {body}',
    hint: 'Look at the gateway log in the demo data directory (gateway.log) for the cause.',
  },
  SAMPLE_REFUSED: {
    message: 'The demo gateway refused the sample message "{label}": {reason}',
    hint: 'Look at gateway.log in the demo data directory; delete the directory to start from scratch.',
  },
  ORG_MISSING: {
    message: 'The hub has no organisation named {org}',
    hint: 'The hub bootstraps it on its first start: delete the demo data directory to start from scratch.',
  },
  PUSH_NOT_PENDING: {
    message: "The demo judgement's block push did not wait for approval",
    hint: "The hub's block push policy should require approval; delete the demo data directory to start from scratch.",
  },
  NOT_SETTLED: {
    message: 'Message {mid} did not reach a final state within {seconds} s',
    hint: 'The machine may be very busy; look at gateway.log in the demo data directory.',
  },
})
