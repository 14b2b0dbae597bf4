/**
 * Every reply the gateway's SMTP listeners send, with its enhanced status code (RFC 3463,
 * advertised as ENHANCEDSTATUSCODES, RFC 2034). Handlers never write "550 5.7.1" by hand: they
 * name an entry. Replies the protocol engine (smtp-server) makes itself — syntax errors, bad
 * sequence — get their enhanced code from `ENGINE_ENHANCED_CODES` below, so that every line the
 * client reads carries a code from this file.
 */

export interface SmtpReplySpec {
  /** Basic reply code (RFC 5321 §4.2.3). */
  code: number
  /** Enhanced status code (RFC 3463 class.subject.detail). */
  enhanced: string
  /** Reply text; `{name}` placeholders are filled from params. Never echo client input here. */
  text: string
}

export const SMTP_REPLIES = {
  // --- Connection (before and at the greeting) -----------------------------------------------
  /** HAT policy REJECTED: RFC 5321 §3.1 allows 554 instead of the greeting. */
  ACCESS_DENIED: { code: 554, enhanced: '5.7.1', text: 'Access denied' },
  /** No HAT sender group matches the client (the table has no catch-all). */
  NO_SENDER_GROUP: { code: 554, enhanced: '5.7.1', text: 'Access denied' },
  /** The listener is at `limits.maxConnections`. */
  TOO_MANY_CONNECTIONS: {
    code: 421,
    enhanced: '4.3.2',
    text: 'Too many connections, try again later',
  },
  /** One IP address is at its `maxConnectionsPerIp`. */
  TOO_MANY_CONNECTIONS_FROM_IP: {
    code: 421,
    enhanced: '4.7.0',
    text: 'Too many connections from your address, try again later',
  },
  /** The client wrote before the greeting (pregreet test, RFC 5321 §3.1: wait for it). */
  PREGREET_VIOLATION: {
    code: 554,
    enhanced: '5.5.1',
    text: 'Protocol error: command sent before the greeting',
  },
  /** Idle for longer than `limits.idleTimeout` (RFC 5321 §4.5.3.2). */
  IDLE_TIMEOUT: { code: 421, enhanced: '4.4.2', text: 'Idle timeout, closing connection' },
  /** A command line not complete within `limits.commandTimeout` (bytes trickling in). */
  COMMAND_TIMEOUT: { code: 421, enhanced: '4.4.2', text: 'Command timeout, closing connection' },
  /** Message data arriving slower than `limits.dataRateFloor` on average. */
  DATA_TOO_SLOW: {
    code: 421,
    enhanced: '4.4.2',
    text: 'Data transfer too slow, closing connection',
  },

  // --- Envelope ------------------------------------------------------------------------------
  SENDER_OK: { code: 250, enhanced: '2.1.0', text: 'Sender OK' },
  RECIPIENT_OK: { code: 250, enhanced: '2.1.5', text: 'Recipient OK' },
  /** A recipient outside the RAT from a client that may not relay (RFC 5321 §3.6.2). */
  RELAY_DENIED: { code: 550, enhanced: '5.7.1', text: 'Relaying denied' },
  /** A RAT entry with action REJECT. */
  RECIPIENT_REJECTED: { code: 550, enhanced: '5.7.1', text: 'Recipient address rejected' },
  /** RFC 5321 §4.5.3.1.10: too many recipients is 452 so that the client retries the rest. */
  TOO_MANY_RECIPIENTS: { code: 452, enhanced: '4.5.3', text: 'Too many recipients' },
  /** THROTTLED (or any group with a rate): the IP address is over its recipient rate. */
  RATE_LIMITED: {
    code: 452,
    enhanced: '4.7.1',
    text: 'Recipient rate limit exceeded for your address, try again later',
  },
  /** `maxMessagesPerConnection` reached: the client must reconnect. */
  TOO_MANY_MESSAGES: {
    code: 421,
    enhanced: '4.7.0',
    text: 'Too many messages in this connection, reconnect to send more',
  },
  /** A sender group with `tls: required` sent MAIL before STARTTLS (RFC 3207 §4). */
  TLS_REQUIRED: { code: 530, enhanced: '5.7.0', text: 'Must issue a STARTTLS command first' },
  /** `auth.required` and the client has not authenticated (RFC 4954 §6). */
  AUTH_REQUIRED: { code: 530, enhanced: '5.7.0', text: 'Authentication required' },
  /** RFC 4954 §6. */
  AUTH_FAILED: { code: 535, enhanced: '5.7.8', text: 'Authentication credentials invalid' },
  /** The session policy (block lists) refused the envelope sender. */
  SENDER_BLOCKED: { code: 550, enhanced: '5.7.1', text: 'Sender address rejected by policy' },
  /** The session policy refused the sender's domain. */
  SENDER_DOMAIN_BLOCKED: {
    code: 550,
    enhanced: '5.7.1',
    text: 'Sender domain rejected by policy',
  },
  /** The session policy (block lists) refused the client's IP address. */
  CLIENT_BLOCKED: {
    code: 550,
    enhanced: '5.7.1',
    text: 'Mail from your IP address is rejected by policy',
  },
  /**
   * An internal user whose outgoing mail an administrator (or an outgoing policy) blocked,
   * typically a compromised account; refused until the user is unblocked.
   */
  USER_BLOCKED: {
    code: 550,
    enhanced: '5.7.1',
    text: 'Sending from this account is blocked by the administrator (possibly compromised); contact your mail administrator',
  },
  /** The session policy refused a recipient (e.g. a blocked user). */
  RECIPIENT_BLOCKED: {
    code: 550,
    enhanced: '5.7.1',
    text: 'Recipient address rejected by policy',
  },
  /** The session policy could not decide (its store failed): fail closed, temporarily. */
  POLICY_UNAVAILABLE: {
    code: 451,
    enhanced: '4.7.1',
    text: 'Policy check failed temporarily, try again later',
  },
  /** MAIL FROM declared a SIZE above the limit (RFC 1870 §6.1). */
  SIZE_DECLARED_TOO_BIG: {
    code: 552,
    enhanced: '5.3.4',
    text: 'Message size exceeds the limit of {max} bytes',
  },

  // --- Message content (answered after the final dot) ----------------------------------------
  /** Data beyond `maxMessageSize`: read to the end, nothing stored (RFC 1870 §6.3). */
  MESSAGE_TOO_BIG: {
    code: 552,
    enhanced: '5.3.4',
    text: 'Message size exceeds the limit of {max} bytes',
  },
  HEADER_TOO_BIG: {
    code: 552,
    enhanced: '5.3.4',
    text: 'Message header exceeds the limit of {max} bytes',
  },
  LINE_TOO_LONG: {
    code: 554,
    enhanced: '5.6.0',
    text: 'Message has a line longer than {max} octets',
  },
  /** Bare LF or CR in DATA: the SMTP smuggling vector (RFC 5321 §2.3.8, §4.1.1.4). */
  BARE_LINE_ENDING: {
    code: 554,
    enhanced: '5.5.2',
    text: 'Bare LF or CR in message content; lines must end with CRLF',
  },
  /** NUL is not text (RFC 5322 §2.3, RFC 6152 §3); no BINARYMIME is offered. */
  NUL_IN_DATA: { code: 554, enhanced: '5.6.0', text: 'Message content contains a NUL octet' },
  /** RFC 5321 §6.3: a message with too many Received headers is looping. */
  MAIL_LOOP: { code: 554, enhanced: '5.4.6', text: 'Too many Received headers: mail loop' },
  /** The message and its envelope are on disk and fsynced. */
  QUEUED: { code: 250, enhanced: '2.0.0', text: 'Ok: queued as {mid}' },
  /** The spool could not store the message: nothing was accepted. */
  SPOOL_FAILURE: {
    code: 451,
    enhanced: '4.3.0',
    text: 'Local error in processing, try again later',
  },
  /** The spool's disk is full (ENOSPC), or storing would eat into `spool.minFreeSpace`. */
  SPOOL_FULL: {
    code: 452,
    enhanced: '4.3.1',
    text: 'Insufficient system storage, try again later',
  },
} as const satisfies Record<string, SmtpReplySpec>

export type SmtpReplyKey = keyof typeof SMTP_REPLIES

export type ReplyParams = Record<string, string | number>

/** A reply with its placeholders filled: what goes on the wire after the code. */
export interface SmtpReply {
  key: SmtpReplyKey
  code: number
  enhanced: string
  text: string
}

export function reply(key: SmtpReplyKey, params: ReplyParams = {}): SmtpReply {
  const spec: SmtpReplySpec = SMTP_REPLIES[key]
  const text = spec.text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    params[name] === undefined ? whole : String(params[name]),
  )
  return { key, code: spec.code, enhanced: spec.enhanced, text }
}

/** The full reply line, e.g. `550 5.7.1 Relaying denied`. */
export function replyLine(r: SmtpReply): string {
  return `${r.code} ${r.enhanced} ${r.text}`
}

/**
 * The error an smtp-server handler callback receives to send `key`: `responseCode` is the
 * code, and the message starts with the enhanced code (our connection class then sends it as is).
 */
export class SmtpReplyError extends Error {
  readonly responseCode: number
  readonly reply: SmtpReply
  constructor(r: SmtpReply) {
    super(`${r.enhanced} ${r.text}`)
    this.name = 'SmtpReplyError'
    this.responseCode = r.code
    this.reply = r
  }
}

export function replyError(key: SmtpReplyKey, params: ReplyParams = {}): SmtpReplyError {
  return new SmtpReplyError(reply(key, params))
}

/**
 * Enhanced codes for replies the protocol engine writes itself, by the context smtp-server
 * gives them (RFC 3463 §3 subjects: 1 addressing, 3 mail system, 5 protocol, 6 content,
 * 7 security). Our own replies above never reach this table.
 */
export const ENGINE_CONTEXT_CODES: Readonly<Record<string, string>> = {
  MAIL_FROM_OK: '2.1.0',
  RCPT_TO_OK: '2.1.5',
  DATA_OK: '2.0.0',
  AUTH_SUCCESS: '2.7.0',
  AUTH_REQUIRED: '5.7.0',
  AUTH_INVALID: '5.7.8',
  NOT_AUTHORIZED: '5.7.0',
  TOO_MANY_RECIPIENTS: '4.5.3',
  MAILBOX_SYNTAX_ERROR: '5.1.3',
  SENDER_SYNTAX_ERROR: '5.1.7',
  MESSAGE_TOO_BIG: '5.3.4',
}

/** Enhanced codes for engine replies without a context, by basic code. */
export const ENGINE_ENHANCED_CODES: Readonly<Record<number, string>> = {
  // 2yz: success
  211: '2.0.0',
  214: '2.0.0',
  221: '2.0.0',
  235: '2.7.0',
  250: '2.0.0',
  252: '2.1.5',
  // 4yz: transient
  421: '4.3.2',
  450: '4.2.1',
  451: '4.3.0',
  452: '4.3.1',
  454: '4.7.0',
  // 5yz: permanent
  500: '5.5.2',
  501: '5.5.4',
  502: '5.5.1',
  503: '5.5.1',
  504: '5.5.4',
  530: '5.7.0',
  535: '5.7.8',
  538: '5.7.11',
  550: '5.7.1',
  552: '5.3.4',
  553: '5.1.3',
  554: '5.5.0',
  555: '5.5.4',
}

const ENHANCED_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /

/** True when `text` already starts with an enhanced status code (one of our replies). */
export function hasEnhancedCode(text: string): boolean {
  return ENHANCED_PREFIX.test(text)
}

/** The enhanced code the engine's reply `code` (with smtp-server's `context`) should carry. */
export function engineEnhancedCode(code: number, context?: string): string {
  if (context !== undefined && ENGINE_CONTEXT_CODES[context] !== undefined) {
    return ENGINE_CONTEXT_CODES[context] as string
  }
  return ENGINE_ENHANCED_CODES[code] ?? `${Math.floor(code / 100)}.0.0`
}
