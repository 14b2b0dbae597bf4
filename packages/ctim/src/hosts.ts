import { isIPv4, isIPv6 } from 'node:net'
import { domainToASCII } from 'node:url'
import { parse as parseHost } from 'tldts'

/**
 * Host names and IP addresses: one canonical form each, so that an observable typed by an analyst,
 * extracted by inspect and recorded by a gateway compare equal.
 *
 * - Domains: lower case, IDN to A-labels (punycode, RFC 5891 via UTS #46 as WHATWG URL does),
 *   no trailing root dot.
 * - IPv4: dotted quad without leading zeros (a leading zero is octal to some resolvers:
 *   `010.0.0.1` is ambiguous, so it is refused rather than guessed).
 * - IPv6: RFC 5952 text form (lower case, longest zero run compressed), zone id dropped.
 */

/** Why a host was refused, for error messages. */
export type HostProblem = string

// RFC 1035 §2.3.4 / RFC 1123 §2.1: labels of letters, digits and hyphens, 1–63 octets, no
// hyphen at either end. Underscores are accepted inside labels because real DNS names use them
// (`_dmarc.example.com`, `sel._domainkey.example.com`, RFC 8552).
const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/
const TLD = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/

/**
 * The canonical form of a DNS domain name, or a reason it is not one. Accepts Unicode (IDN) and
 * upper case; does not consult the public-suffix list (internal names such as `corp.local` are
 * valid domains; use {@link isPublicDomain} to ask whether a name is on the Internet).
 *
 * @example
 * canonicalDomain('Bücher.DE.') // { ok: true, value: 'xn--bcher-kva.de' }
 * canonicalDomain('-bad-.com')  // { ok: false, reason: '…' }
 */
export function canonicalDomain(
  input: string,
): { ok: true; value: string } | { ok: false; reason: HostProblem } {
  let name = input.trim()
  if (name.endsWith('.')) name = name.slice(0, -1)
  if (name === '') return { ok: false, reason: 'empty' }
  if (name.length > 1024) return { ok: false, reason: 'longer than 253 characters' }
  if (isIPv4(name) || /^[\d.]+$/.test(name))
    return { ok: false, reason: 'an IP address is not a domain' }
  // domainToASCII lower-cases, maps UTS #46 and punycodes; '' means it refused the name.
  // Underscore labels are checked separately because UTS #46 in non-strict mode passes them.
  const ascii = /^[\x21-\x7e]+$/.test(name) ? name.toLowerCase() : domainToASCII(name)
  if (ascii === '') return { ok: false, reason: 'not a valid internationalised domain name' }
  if (ascii.length > 253) return { ok: false, reason: 'longer than 253 characters' }
  const labels = ascii.split('.')
  if (labels.length < 2) return { ok: false, reason: 'a domain needs at least two labels' }
  for (const label of labels) {
    if (!LABEL.test(label)) return { ok: false, reason: `invalid label "${label}"` }
  }
  const tld = labels[labels.length - 1] as string
  if (!TLD.test(tld)) return { ok: false, reason: `invalid top-level label "${tld}"` }
  if (ascii.startsWith('xn--') || ascii.includes('.xn--')) {
    // A hand-written A-label must decode; domainToASCII returns '' for bad punycode.
    if (domainToASCII(ascii) === '') return { ok: false, reason: 'invalid punycode label' }
  }
  return { ok: true, value: ascii }
}

/**
 * The canonical form of a host name: a domain name, or a single-label name such as a Windows
 * computer name (`DESKTOP-7Q2LK3M`, NetBIOS/DNS single label), lower-cased.
 *
 * @example
 * canonicalHostname('WS-0042.corp.local') // { ok: true, value: 'ws-0042.corp.local' }
 */
export function canonicalHostname(
  input: string,
): { ok: true; value: string } | { ok: false; reason: HostProblem } {
  let name = input.trim()
  if (name.endsWith('.')) name = name.slice(0, -1)
  if (name === '') return { ok: false, reason: 'empty' }
  if (!name.includes('.')) {
    const lower = name.toLowerCase()
    return LABEL.test(lower) && /[a-z_]/.test(lower)
      ? { ok: true, value: lower }
      : { ok: false, reason: `invalid host label "${name}"` }
  }
  const domain = canonicalDomain(name)
  if (domain.ok) return domain
  // Internal names may end in a label that is not a valid TLD (`host.corp.int1`); accept LDH.
  const lower = name.toLowerCase()
  const labels = lower.split('.')
  return labels.every((label) => LABEL.test(label)) && lower.length <= 253
    ? { ok: true, value: lower }
    : domain
}

/**
 * The canonical IPv4 text form, or null. Refuses leading zeros (octal ambiguity) and anything but
 * four decimal octets.
 *
 * @example
 * canonicalIPv4(' 192.0.2.10 ') // '192.0.2.10'
 * canonicalIPv4('192.0.2.010')  // null
 */
export function canonicalIPv4(input: string): string | null {
  const value = input.trim()
  return isIPv4(value) ? value : null
}

/**
 * The RFC 5952 canonical IPv6 text form, or null. Accepts brackets and a zone id (`%eth0`),
 * both dropped.
 *
 * @example
 * canonicalIPv6('2001:DB8:0:0::1') // '2001:db8::1'
 */
export function canonicalIPv6(input: string): string | null {
  let value = input.trim()
  if (value.startsWith('[') && value.endsWith(']')) value = value.slice(1, -1)
  const zone = value.indexOf('%')
  if (zone !== -1) value = value.slice(0, zone)
  if (!isIPv6(value)) return null
  // WHATWG URL serialises IPv6 hosts in the RFC 5952 §4 form.
  const host = new URL(`http://[${value}]/`).hostname
  return host.slice(1, -1)
}

/**
 * Whether a (canonical) domain ends in a suffix on the public-suffix list (ICANN or private
 * section) and is more than the suffix itself — i.e. whether it can exist on the Internet.
 *
 * @example
 * isPublicDomain('evil.example.com') // true
 * isPublicDomain('report.pdf')       // false (no such suffix)
 * isPublicDomain('co.uk')            // false (a suffix, not a domain)
 */
export function isPublicDomain(domain: string): boolean {
  const parsed = parseHost(domain, { allowPrivateDomains: true, extractHostname: false })
  return (
    (parsed.isIcann === true || parsed.isPrivate === true) &&
    parsed.domain !== null &&
    parsed.publicSuffix !== domain
  )
}

/** The public suffix of a domain per the PSL (`'co.uk'` for `a.b.co.uk`), or null when unknown. */
export function publicSuffixOf(domain: string): string | null {
  const parsed = parseHost(domain, { allowPrivateDomains: true, extractHostname: false })
  return parsed.isIcann === true || parsed.isPrivate === true ? parsed.publicSuffix : null
}

/** The registrable domain (eTLD+1) of a domain per the PSL, or null when it has none. */
export function registrableDomainOf(domain: string): string | null {
  const parsed = parseHost(domain, { allowPrivateDomains: true, extractHostname: false })
  return parsed.isIcann === true || parsed.isPrivate === true ? parsed.domain : null
}
