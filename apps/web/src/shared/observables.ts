/** An observable as the Threat Response API names it (CTIM `{type, value}`). */
export interface Observable {
  type: string
  value: string
}

export const OBSERVABLE_LABELS: Record<string, string> = {
  email: 'Email address',
  domain: 'Domain',
  url: 'URL',
  ip: 'IP address',
  ipv6: 'IPv6 address',
  sha256: 'SHA-256',
  md5: 'MD5',
  sha1: 'SHA-1',
  file_name: 'File name',
  email_subject: 'Subject',
  email_messageid: 'Message-ID',
  cisco_mid: 'Message id (MID)',
}

export function labelOf(type: string): string {
  return OBSERVABLE_LABELS[type] ?? type
}
