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
  PASSWORD_TOO_SHORT: {
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
  GATEWAY_NOT_RUNNING: {
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
})
