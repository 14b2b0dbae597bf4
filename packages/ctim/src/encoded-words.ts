/**
 * RFC 2047 encoded-word decoding for header values pasted into inspect (`Subject:
 * =?UTF-8?B?…?=`). Undecodable words are left as they are: inspect must never fail on input.
 */

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g
// RFC 2047 §6.2: whitespace between adjacent encoded words is not displayed.
const BETWEEN_WORDS = /(\?=)[ \t]+(?==\?[^?\s]+\?[bBqQ]\?)/g

function decodeQ(text: string): Uint8Array {
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string
    if (char === '_') bytes.push(0x20)
    else if (char === '=' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
    } else bytes.push(char.charCodeAt(0) & 0xff)
  }
  return Uint8Array.from(bytes)
}

/**
 * Decodes every RFC 2047 encoded word in a header value.
 *
 * @example
 * decodeEncodedWords('=?UTF-8?B?w5xiZXJ3ZWlzdW5n?= pending') // 'Überweisung pending'
 */
export function decodeEncodedWords(value: string): string {
  if (!value.includes('=?')) return value
  return value
    .replace(BETWEEN_WORDS, '$1')
    .replace(ENCODED_WORD, (whole, charset: string, encoding: string, text: string) => {
      try {
        // RFC 2231 §5: a language tag may follow the charset after "*".
        const label = charset.split('*')[0] as string
        const bytes = encoding.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQ(text)
        return new TextDecoder(label, { fatal: true }).decode(bytes)
      } catch {
        return whole
      }
    })
}
