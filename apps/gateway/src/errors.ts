import { defineErrors } from '@postern/core'

/** The gateway's error catalog (docs/errors.md is generated from it). */
export const gwErrors = defineErrors('GW', {
  PIPELINE_WORKER_MISSING: {
    message: 'The analysis worker script {path} does not exist',
    hint: 'Run `npm run build`: worker threads run the compiled files in dist/.',
  },
  PIPELINE_CLOSED: {
    message: 'The content pipeline is shut down',
    hint: 'The gateway is stopping; the message stays in the spool and is processed at the next start.',
    smtp: { code: 451, enhanced: '4.3.2' },
  },
  PIPELINE_WORKER_FAILED: {
    message: 'The analysis worker failed: {reason}',
    hint: 'The message is kept and treated as malformed; report the message (from quarantine) if this repeats.',
  },
  SCANNER_TIMEOUT: {
    message: 'Scanner {scanner} did not answer within {ms} ms',
    hint: 'Check that {scanner} is running and not overloaded; raise its timeoutMs if it is only slow.',
  },
  SCANNER_UNAVAILABLE: {
    message: 'Scanner {scanner} is unreachable at {target}: {reason}',
    hint: 'Start {scanner} or fix its address in the configuration (scanners.{scanner}).',
  },
  SCANNER_PROTOCOL: {
    message: 'Scanner {scanner} gave an answer that cannot be read: {reason}',
    hint: 'Check that {target} is really {scanner} and a supported version (see docs/pipeline.md).',
  },
  SCANNER_REFUSED: {
    message: 'Scanner {scanner} refused the message: {reason}',
    hint: 'For clamd raise StreamMaxLength (clamd.conf) to at least scanners.clamav.maxBytes; see the scanner log.',
  },
  SCANNER_DEFERRED: {
    message: 'Processing of message {mid} is deferred: scanner {scanner} failed ({reason})',
    hint: 'The message stays queued and is processed again on the retry schedule; bring {scanner} back, or set its onFailure to skip or quarantine.',
    smtp: { code: 451, enhanced: '4.3.0' },
  },
  NOTIFICATION_UNAVAILABLE: {
    message: 'Policy notifications cannot be sent: no mail injector is attached to this process',
    hint: 'Notifications are sent by the running gateway; this is a bug if it happens there.',
  },
  POLICY_INVALID: {
    message: 'Mail policy "{policy}" is invalid: {reason}',
    hint: 'Fix the policy in the configuration (policies.*); every referenced group, list, quarantine and scanner must exist.',
  },
  QUARANTINE_UNKNOWN: {
    message: 'There is no quarantine named "{name}"',
    hint: 'Use one of the configured quarantines (quarantines.*), e.g. policy, virus, spam or malformed.',
    status: 400,
  },
  QUARANTINE_ITEM_NOT_FOUND: {
    message: 'Quarantined message {id} does not exist',
    hint: 'List the quarantine to find the id; the message may have been released, deleted or expired.',
    status: 404,
  },
  QUARANTINE_ITEM_NOT_HELD: {
    message: 'Quarantined message {id} is already {status}',
    hint: 'Only held messages can be released or deleted; its tracking timeline says what happened.',
    status: 409,
  },
  QUARANTINE_RELEASE_UNAVAILABLE: {
    message: 'Messages cannot be released: no delivery queue is attached to this process',
    hint: 'Release from the running gateway (API or console) rather than from an offline command.',
    status: 503,
  },
  BLOCKLIST_VALUE_INVALID: {
    message: '"{value}" is not a valid {kind} block list value: {reason}',
    hint: 'Give a {kind} as described in docs/pipeline.md#block-lists (e.g. {example}).',
    status: 400,
  },
  BLOCKLIST_ENTRY_EXISTS: {
    message: 'The {kind} block list already contains {value}',
    hint: 'Remove the existing entry first, or leave it: it already blocks this value.',
    status: 409,
  },
  BLOCKLIST_ENTRY_NOT_FOUND: {
    message: 'Block list entry {id} does not exist',
    hint: 'List the block list to find the entry id.',
    status: 404,
  },
  BLOCKED_SENDER_NOT_FOUND: {
    message: '{address} is not a blocked user',
    hint: 'List blocked users to see who is blocked.',
    status: 404,
  },
})

export type GwErrors = typeof gwErrors
