import { defineErrors } from '@postern/core'

/**
 * The gateway's error catalog. SMTP sessions answer from `smtp/replies.ts`; these errors are
 * what operators, API clients and the CLI see. Other gateway areas (content pipeline,
 * remediation, cloud connector) add their entries here.
 */
export const gwErrors = defineErrors('GW', {
  LISTENER_BIND_FAILED: {
    message: 'Listener {listener} cannot listen on {address}: {reason}',
    hint: 'Another process may use the port, or binding a port below 1024 needs privileges; change `listeners[].smtp` or free the port.',
  },
  HTTP_BIND_FAILED: {
    message: 'The HTTP API cannot listen on {address}: {reason}',
    hint: 'Change `http` in the configuration or stop the process that uses the port.',
  },
  TLS_FILES_UNREADABLE: {
    message: 'Cannot load the TLS certificate {cert} / key {key}: {reason}',
    hint: 'Check both paths and that they are PEM files readable by this user, or set `tls.selfSigned: true` for a test certificate.',
  },
  SPOOL_UNAVAILABLE: {
    message: 'The spool directory {dir} cannot be used: {reason}',
    hint: 'Check that `dataDir` exists, is writable by this user and is on a local file system with free space.',
  },
  SPOOL_LOCKED: {
    message: 'The spool {dir} is in use by another gateway process (pid {pid})',
    hint: 'Two gateways must never share a spool: stop the other process, or give this one its own `dataDir`.',
  },
  SPOOL_WRITE_FAILED: {
    message: 'The spool could not store a message: {reason}',
    hint: 'Check free disk space and the health of the disk holding `dataDir`; the client was told to retry later.',
    smtp: { code: 451, enhanced: '4.3.0' },
  },
  SPOOL_CORRUPT: {
    message: 'Spool segment {segment} has a damaged record at offset {offset}: {reason}',
    hint: 'Records after the damage were recovered where possible; check the disk. A damaged tail after a crash is expected and harmless.',
  },
  QUEUE_MESSAGE_NOT_FOUND: {
    message: 'Message {mid} is not in the queue',
    hint: 'It may have been delivered, bounced or deleted already; list the queue with `postern gateway queue list` or look it up in message tracking.',
    status: 404,
  },
  QUEUE_MESSAGE_BUSY: {
    message: 'Message {mid} is being delivered right now',
    hint: 'Try again in a moment; held messages are never picked up for delivery.',
    status: 409,
  },
  SMTP_PROCESS_UNAVAILABLE: {
    message: 'SMTP process {slot} cannot answer right now: {reason}',
    hint: 'The primary restarts an SMTP process that died (it recovers its own spool): retry in a moment, and check the log for GATEWAY_SMTP_PROCESS_EXITED.',
    status: 503,
  },
  TRACKING_MESSAGE_NOT_FOUND: {
    message: 'No tracked message has MID {mid}',
    hint: 'Check the MID; tracking keeps only what its retention allows.',
    status: 404,
  },
  LOGIN_FAILED: {
    message: 'Wrong user name or password',
    hint: 'Check both and try again; an administrator can reset the password with `postern gateway user passwd`.',
    status: 401,
  },
  USER_EXISTS: {
    message: 'A user named {username} already exists',
    hint: 'Choose another name, or change that user with `postern gateway user passwd`.',
    status: 409,
  },
  USER_NOT_FOUND: {
    message: 'No user named {username}',
    hint: 'List users with `postern gateway user list`.',
    status: 404,
  },
  LAST_ADMIN: {
    message: 'User {username} is the last administrator',
    hint: 'Create or promote another administrator first, so the gateway can still be administered.',
    status: 409,
  },
  PASSWORD_INVALID: {
    message: 'The password is shorter than {min} characters',
    hint: 'Choose a longer password, e.g. a passphrase of several words.',
    status: 400,
  },
  TOKEN_NOT_FOUND: {
    message: 'No API token with id {id}',
    hint: 'List tokens with `postern gateway token list`.',
    status: 404,
  },
  INITIAL_ADMIN_INVALID: {
    message: 'The initial administrator {username} cannot be created: {reason}',
    hint: 'Set `api.initialAdmin.passwordHash` (from `postern gateway hash-password`) or `api.initialAdmin.passwordFile`.',
  },
  GATEWAY_UNREACHABLE: {
    message: 'No running gateway found for data directory {dataDir}: {reason}',
    hint: 'Start it with `postern gateway --config FILE`, or point the CLI at it with --url and --token.',
  },
  API_REQUEST_FAILED: {
    message: 'The gateway answered {status}: {reason}',
    hint: 'See the message above; `--json` prints the full error body.',
  },
  CLI_CREDENTIAL_UNREADABLE: {
    message: 'Cannot read the local CLI credential {path}: {reason}',
    hint: 'Run the CLI as the user the gateway runs as (the file is private to it), or pass --token.',
  },
  // --- Content pipeline: analysis, scanners, policies, quarantine, block lists ---------------
  PIPELINE_WORKER_MISSING: {
    message: 'The analysis worker script {path} does not exist',
    hint: 'Run `npm run build`: worker threads run the compiled files in dist/.',
  },
  PIPELINE_CLOSED: {
    message: 'The content pipeline is shut down',
    hint: 'The gateway is stopping; the message stays in the spool and is processed at the next start.',
    smtp: { code: 451, enhanced: '4.3.2' },
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
  POLICY_DOCUMENT_INVALID: {
    message: 'The mail policies were not saved: {reason}',
    hint: 'Fix what the message names (path: problem) and save again; the policies in use are unchanged.',
    status: 400,
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
  RIBBON_NOT_LOGGED_IN: {
    message: 'The ribbon has no hub login for {owner}',
    hint: 'Open the ribbon login (Login to use the ribbon) and give an API client id, its secret and the hub URL.',
    status: 404,
  },
  RIBBON_HUB_REFUSED: {
    message: 'The hub at {hubUrl} refused the ribbon client {clientId} (HTTP {status})',
    hint: 'Check the client id and secret in the hub console (API clients); the client may be revoked or expired.',
    status: 400,
  },
  RIBBON_HUB_UNREACHABLE: {
    message: 'The hub at {hubUrl} could not be reached: {reason}',
    hint: 'Check the hub URL and that the gateway can reach it.',
    status: 502,
  },
  BLOCKED_SENDER_NOT_FOUND: {
    message: '{address} is not a blocked user',
    hint: 'List blocked users to see who is blocked.',
    status: 404,
  },
  // Mailbox remediation, tracking search and reporting (keys start with their area).
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
    hint: 'A chain lists existing imap, doveadm, maildir or graph profiles, each once, and never another chain.',
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
  HUB_BLOCKS_UNAVAILABLE: {
    message: 'This gateway has no block lists: the hub cannot block anything on it',
    hint: 'Enable the content pipeline and its block lists (pipeline.enabled, pipeline.blocklists.enabled).',
    status: 503,
  },
})

export type GwErrors = typeof gwErrors
