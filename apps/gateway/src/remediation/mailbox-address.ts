import { gwErrors } from '../errors.js'

export interface MailboxAddress {
  /** `local@domain`, domain lower-cased. */
  address: string
  local: string
  domain: string
}

// RFC 5321 §4.1.2 Dot-string atoms only: quoted local parts, source routes, NULs, slashes and
// the like never reach a mailbox lookup, because recipient addresses come from the message's
// sender and end up in IMAP logins, Graph URLs and Maildir paths.
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+=?^_`{|}~-]+)*$/
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/

/** Parses a recipient for remediation, refusing anything that is not a plain mailbox address. */
export function parseMailboxAddress(value: string): MailboxAddress {
  const trimmed = value.trim().replace(/^<|>$/g, '')
  const at = trimmed.lastIndexOf('@')
  const local = trimmed.slice(0, at)
  const domain = trimmed.slice(at + 1).toLowerCase()
  if (at < 1 || local.length > 64 || !LOCAL_PART.test(local) || !DOMAIN.test(domain)) {
    throw gwErrors.REMEDIATION_MAILBOX_ADDRESS_INVALID({ address: value.slice(0, 320) })
  }
  return { address: `${local}@${domain}`, local, domain }
}

/**
 * Message-IDs compare without the angle brackets and surrounding whitespace (RFC 5322 §3.6.4);
 * the id itself is kept as written, since id-left is case-sensitive.
 */
export function normalizeMessageId(value: string): string {
  return value.trim().replace(/^<\s*/, '').replace(/\s*>$/, '').trim()
}

/** The bracketed form used in headers and IMAP/Graph searches. */
export function bracketMessageId(value: string): string {
  return `<${normalizeMessageId(value)}>`
}
