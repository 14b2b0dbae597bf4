import { defineErrors } from '@postern/core'

/**
 * Errors of mailbox remediation, tracking search and reporting. They carry the gateway's `GW`
 * prefix; keys start with their area (`REMEDIATION_`, `SEARCH_`, `REPORT_`).
 */
export const remediationErrors = defineErrors('GW', {
  REMEDIATION_DISABLED: {
    message: 'Mailbox remediation is disabled on this gateway',
    hint: 'Set remediation.enabled: true in the gateway configuration and restart.',
    status: 409,
  },
  REMEDIATION_PROFILE_NOT_FOUND: {
    message: 'There is no remediation profile named "{name}"',
    hint: 'List profiles with `postern gateway remediation profile list` or GET /api/v1/remediation/profiles.',
    status: 404,
  },
  REMEDIATION_PROFILE_EXISTS: {
    message: 'A remediation profile named "{name}" already exists',
    hint: 'Pick another name, or update the existing profile instead.',
    status: 409,
  },
  REMEDIATION_PROFILE_INVALID: {
    message: 'The remediation profile is invalid: {issues}',
    hint: 'Correct the fields listed; docs/remediation.md describes every profile kind and field.',
    status: 400,
  },
  REMEDIATION_PROFILE_IN_USE: {
    message: 'Profile "{name}" is used by chained profile "{chain}"',
    hint: 'Remove it from the chained profile first, then delete it.',
    status: 409,
  },
  REMEDIATION_DOMAIN_CONFLICT: {
    message: 'Recipient domain "{domain}" is already mapped to profile "{profile}"',
    hint: 'A domain maps to one profile; for mailboxes split between servers use a chained profile.',
    status: 409,
  },
  REMEDIATION_CHAIN_INVALID: {
    message: 'Chained profile "{name}" is invalid: {reason}',
    hint: 'A chain lists existing imap, maildir or graph profiles, each once, and never another chain.',
    status: 400,
  },
  REMEDIATION_NO_PROFILE: {
    message: 'No enabled remediation profile covers the recipient domain "{domain}"',
    hint: 'Add the domain to a profile (or a "*" catch-all profile) and retry the run.',
    status: 422,
  },
  REMEDIATION_MAILBOX_ADDRESS_INVALID: {
    message: 'The recipient "{address}" is not a mailbox address that can be remediated safely',
    hint: 'Only plain user@domain addresses are looked up; remediate this mailbox by hand.',
    status: 422,
  },
  REMEDIATION_MAILBOX_UNKNOWN: {
    message: 'Mailbox {mailbox} does not exist in profile "{profile}": {reason}',
    hint: 'Check that the recipient really has a mailbox there; for hybrid sites put the profiles in a chained profile.',
    status: 404,
  },
  REMEDIATION_MAILBOX_UNAVAILABLE: {
    message: 'Cannot open mailbox {mailbox} through profile "{profile}": {reason}',
    hint: 'Check the profile with `postern gateway remediation profile test`, then retry the run.',
    status: 502,
  },
  REMEDIATION_BACKEND_FAILED: {
    message: 'The mailbox server refused {operation} in {mailbox}: {reason}',
    hint: 'Check the mailbox server logs and the rights of the profile user, then retry the run.',
    status: 502,
  },
  REMEDIATION_TIMEOUT: {
    message: 'Remediating {mailbox} did not finish within {ms} ms',
    hint: 'The mailbox server is slow or unreachable; retry the run, or raise remediation.mailboxTimeoutMs.',
    status: 504,
  },
  REMEDIATION_MESSAGE_TOO_LARGE: {
    message:
      'The message in {mailbox} is {size} bytes, more than the {limit} bytes allowed for forwarding',
    hint: 'Raise remediation.forward.maxMessageBytes, or delete without forwarding.',
    status: 413,
  },
  REMEDIATION_FORWARD_NOT_CONFIGURED: {
    message: 'Forwarding needs a forward address and an SMTP relay',
    hint: 'Set remediation.forward.address and remediation.relay in the gateway configuration, or pass forwardTo.',
    status: 409,
  },
  REMEDIATION_FORWARD_ADDRESS_NOT_ALLOWED: {
    message: 'Forwarding to {address} is not allowed',
    hint: 'Use the configured forward address, or add the address to remediation.forward.allowedRecipients.',
    status: 403,
  },
  REMEDIATION_FORWARD_FAILED: {
    message: 'The relay refused the forward of the message found in {mailbox}: {reason}',
    hint: 'Check remediation.relay and the relay logs, then retry the run; the message was not deleted.',
    status: 502,
  },
  REMEDIATION_RUN_NOT_FOUND: {
    message: 'There is no remediation run {id}',
    hint: 'List runs with GET /api/v1/remediation/runs.',
    status: 404,
  },
  REMEDIATION_MESSAGE_NOT_FOUND: {
    message: 'No tracked message matches {what}',
    hint: 'Search message tracking first; remediation needs a MID or Message-ID this gateway saw.',
    status: 404,
  },
  REMEDIATION_NO_MESSAGE_ID: {
    message: 'Message MID {mid} has no Message-ID header, so it cannot be found in mailboxes',
    hint: 'Remediate the mailboxes by hand; the recipients are listed in the message detail.',
    status: 422,
  },
  REMEDIATION_TOO_MANY_TARGETS: {
    message: 'The request covers {count} mailboxes, more than the {limit} allowed in one run',
    hint: 'Split the request, or raise remediation.maxTargetsPerRun.',
    status: 413,
  },
  REMEDIATION_GRAPH_AUTH_FAILED: {
    message: 'Microsoft Graph refused the client credentials of profile "{profile}": {reason}',
    hint: 'Check tenant id, client id and secret, and that the app has Mail.ReadWrite (and Mail.Send to forward through Graph) application permissions with admin consent.',
    status: 502,
  },
  SEARCH_QUERY_INVALID: {
    message: 'The tracking search is invalid: {reason}',
    hint: 'See docs/tracking-search.md for every filter and operator.',
    status: 400,
  },
  SEARCH_MESSAGE_NOT_FOUND: {
    message: 'There is no tracked message with MID {mid}',
    hint: 'Search message tracking to find the MID.',
    status: 404,
  },
  REPORT_QUERY_INVALID: {
    message: 'The report request is invalid: {reason}',
    hint: 'See docs/reporting.md for buckets, ranges and filters.',
    status: 400,
  },
})

export type RemediationErrorCode =
  (typeof remediationErrors)[keyof typeof remediationErrors]['code']
