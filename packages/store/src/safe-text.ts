/**
 * PostgreSQL `text` cannot hold U+0000 (it fails the whole statement), while mail carries NULs
 * wherever an attacker puts them. Every value from a message that goes into a text column
 * passes through here: NUL becomes U+FFFD, visible and not silently joining what it separated.
 */
export function safeText(value: string): string
export function safeText(value: string | null): string | null
export function safeText(value: string | null): string | null {
  return value === null || !value.includes('\0') ? value : value.replaceAll('\0', '\uFFFD')
}
